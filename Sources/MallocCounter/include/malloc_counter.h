#ifndef MALLOC_COUNTER_H
#define MALLOC_COUNTER_H
#include <stdint.h>
/// Starts counting malloc/calloc/realloc calls (off until then). Call it before the threads
/// whose allocations are counted start.
void malloc_counter_enable(void);
/// Number of malloc/calloc/realloc calls made by this process (all threads) since counting started.
uint64_t malloc_counter_allocations(void);
#endif

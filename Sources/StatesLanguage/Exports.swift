// The JSON value (and Timestamp, RandomSource, Base64, Digest) is the vocabulary of every
// API of this module: its clients get it with `import StatesLanguage`, as before it moved
// to StatesCore (see docs/ARCHITECTURE.md).
@_exported import StatesCore

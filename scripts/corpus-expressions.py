#!/usr/bin/env python3
"""Mine the ASL conformance corpus for the JSONPath-mode expression layer.

  corpus-expressions.py list [CATEGORY|*] [SUBSTRING]   cases with their definition, input and outcome
  corpus-expressions.py causes                           every States.* error cause recorded
  corpus-expressions.py order                            check the member order of template outputs:
        copied members first (definition order), then `.$` members in Java HashMap order
"""
import glob, json, os, sys

CASES = os.path.join(os.path.dirname(__file__), '..', '..', 'shared', 'conformance', 'asl', 'cases')


def cases():
    for f in sorted(glob.glob(os.path.join(CASES, '*.json'))):
        yield json.load(open(f))


def list_cases(category='*', needle=''):
    for d in cases():
        if category != '*' and d['category'] != category:
            continue
        if needle and needle not in d['id'] and needle not in json.dumps(d.get('definition')):
            continue
        e = d['expected']
        print('==', d['id'], d['kind'])
        print('  def:', json.dumps(d.get('definition'))[:1500])
        print('  in :', json.dumps(d.get('input'))[:500])
        if 'output' in e:
            print('  out:', json.dumps(e['output'])[:500])
        if 'error' in e or 'cause' in e:
            print('  err:', e.get('status'), e.get('error', ''), '|', e.get('cause') or '')
        for k in ('create_error', 'start_error'):
            if k in e:
                print('  ', k, ':', e[k].get('message'))


def causes():
    seen = set()
    def walk(x, out):
        if isinstance(x, dict):
            if isinstance(x.get('error'), str) and x['error'].startswith('States.'):
                out.append((x['error'], x.get('cause')))
            for v in x.values():
                walk(v, out)
        elif isinstance(x, list):
            for v in x:
                walk(v, out)
    for d in cases():
        out = []
        walk(d['expected'], out)
        for error, cause in out:
            if (error, cause) not in seen:
                seen.add((error, cause))
                print(error, '|', d['id'], '\n   ', cause)


def java_hash(s):
    h = 0
    b = s.encode('utf-16-le')
    for i in range(0, len(b), 2):
        h = (31 * h + (b[i] | (b[i + 1] << 8))) & 0xffffffff
    return h


def hash_map_order(keys):
    cap = 16
    while len(keys) > cap * 0.75:
        cap *= 2
    def bucket(k):
        h = java_hash(k)
        return (h ^ (h >> 16)) & (cap - 1)
    return sorted(keys, key=lambda k: (bucket(k), keys.index(k)))


def order():
    good = bad = 0
    def check(tmpl, out, where):
        nonlocal good, bad
        if isinstance(tmpl, dict) and isinstance(out, dict):
            names = [k[:-2] if k.endswith('.$') else k for k in tmpl]
            literal = [k for k in tmpl if not k.endswith('.$')]
            dynamic = [k[:-2] for k in tmpl if k.endswith('.$')]
            if len(out) > 1 and set(names) == set(out) and dynamic:
                if literal + hash_map_order(dynamic) == list(out):
                    good += 1
                else:
                    bad += 1
                    print('MISMATCH', where, list(tmpl), list(out))
            for k, v in tmpl.items():
                if not k.endswith('.$') and k in out:
                    check(v, out[k], where)
        elif isinstance(tmpl, list) and isinstance(out, list) and len(tmpl) == len(out):
            for a, b in zip(tmpl, out):
                check(a, b, where)
    for d in cases():
        if d['kind'] != 'execution' or not isinstance(d.get('definition'), dict):
            continue
        states = {}
        def collect(st):
            for n, s in st.items():
                states[n] = s
                for b in s.get('Branches', []):
                    collect(b['States'])
                for k in ('ItemProcessor', 'Iterator'):
                    if k in s:
                        collect(s[k]['States'])
        collect(d['definition'].get('States', {}))
        for ev in d['expected'].get('history', []):
            det = ev.get('stateExitedEventDetails')
            if det:
                s = states.get(det['name'])
                if s and s.get('Type') == 'Pass' and 'Parameters' in s and not any(
                        k in s for k in ('ResultPath', 'OutputPath', 'InputPath')):
                    check(s['Parameters'], det.get('output'), d['id'])
            det = ev.get('taskScheduledEventDetails')
            if det:
                params = det.get('parameters')
                if isinstance(params, str):
                    try:
                        params = json.loads(params)
                    except ValueError:
                        continue
                for s in states.values():
                    t = s.get('Parameters') if s.get('Type') == 'Task' and 'InputPath' not in s else None
                    if isinstance(t, dict) and isinstance(params, dict) and \
                            {k[:-2] if k.endswith('.$') else k for k in t} == set(params):
                        check(t, params, d['id'])
                        break
    print(f'{good} objects in the expected order, {bad} not')


if __name__ == '__main__':
    command = sys.argv[1] if len(sys.argv) > 1 else 'list'
    if command == 'list':
        list_cases(*sys.argv[2:4])
    elif command == 'causes':
        causes()
    elif command == 'order':
        order()
    else:
        print(__doc__)

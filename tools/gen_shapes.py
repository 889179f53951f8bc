#!/usr/bin/env python3
"""gen_shapes.py: turn a botocore service model into validate.c's tables.

Usage: python3 tools/gen_shapes.py NAME service-2.json[.gz] OUT.c

The request validator (src/api/validate.c) checks every request body against
the input shape of its operation, as AWS's own front ends do.  Rather than
hand-write those rules for each action, this script reads the model botocore
ships and writes them as static const tables: only the shapes reachable from
some operation's input, with types, members, required flags, enum values and
min/max bounds.  Documentation, patterns and output-only shapes are dropped so
the generated C stays small and quick to compile.

The output is deterministic: shapes are numbered in name order, a structure's
members are sorted by name (validate.c looks them up by binary search), the
string pool is sorted and deduplicated, and the operation table is sorted by
name (validate_find_op is a binary search too).  The header comment names
the command that regenerates the file, the model's hash and the botocore
version, so a stale table is easy to spot.

Anything in a model this script does not understand (a new shape type, a
union, a non-integral bound) stops it with an error instead of silently
weakening validation.
"""

import gzip
import hashlib
import json
import os
import sys

# Botocore type name -> the enum vtype constant in validate.h.
TYPES = {
    'structure': 'VT_STRUCTURE',
    'list': 'VT_LIST',
    'map': 'VT_MAP',
    'string': 'VT_STRING',
    'integer': 'VT_INTEGER',
    'long': 'VT_LONG',
    'boolean': 'VT_BOOLEAN',
    'double': 'VT_DOUBLE',
    'float': 'VT_FLOAT',
    'timestamp': 'VT_TIMESTAMP',
    'blob': 'VT_BLOB',
}
# Types whose min/max bound something validate.c checks: a length, a count
# or a value.
BOUNDED = {'string', 'list', 'map', 'integer', 'long', 'double', 'float', 'blob'}
U16_NONE = 0xFFFF  # VSHAPE_NONE


def die(msg):
    sys.stderr.write('gen_shapes.py: %s\n' % msg)
    sys.exit(1)


def load(path):
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rb') as f:
        raw = f.read()
    return raw, json.loads(raw)


def shape_refs(name, s):
    """The shapes s refers to, in model order."""
    t = s['type']
    if t == 'structure':
        if s.get('union'):
            die('%s: union structures are not supported' % name)
        if s.get('document'):
            return []
        return [m['shape'] for m in s.get('members', {}).values()]
    if t == 'list':
        return [s['member']['shape']]
    if t == 'map':
        return [s['key']['shape'], s['value']['shape']]
    if t not in TYPES:
        die('%s: unknown shape type %r' % (name, t))
    return []


def reachable(model):
    shapes = model['shapes']
    todo = [op['input']['shape'] for op in model['operations'].values()
            if 'input' in op]
    seen = set()
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        if n not in shapes:
            die('shape %r is referenced but not defined' % n)
        seen.add(n)
        todo.extend(shape_refs(n, shapes[n]))
    return sorted(seen)


def c_string(s):
    """s as the body of a C string literal.  Octal escapes, not hex: a hex
    escape would swallow a following hex digit."""
    out = []
    for b in s.encode('utf-8'):
        ch = chr(b)
        if ch in '"\\?':  # '?' too: no trigraph can ever form
            out.append('\\' + ch)
        elif 0x20 <= b < 0x7F:
            out.append(ch)
        else:
            out.append('\\%03o' % b)
    return ''.join(out)


def bound(name, s, key):
    v = s.get(key)
    if v is None:
        return None
    if isinstance(v, float):
        if not v.is_integer():
            die('%s: non-integral %s %r' % (name, key, v))
        v = int(v)
    if not -(2 ** 53) < v < 2 ** 53:
        die('%s: %s %r out of range' % (name, key, v))
    return v


def display_path(path):
    """The model's path as the regenerate command should show it: relative
    to botocore's package directory when it lives there, since that moves
    from machine to machine."""
    norm = path.replace(os.sep, '/')
    i = norm.rfind('/botocore/data/')
    if i >= 0:
        return '"$BOTOCORE"' + norm[i + len('/botocore'):]
    return norm


def botocore_version(path):
    norm = os.path.abspath(path).replace(os.sep, '/')
    i = norm.rfind('/botocore/data/')
    if i < 0:
        return None
    init = norm[:i] + '/botocore/__init__.py'
    try:
        with open(init) as f:
            for line in f:
                if line.startswith('__version__'):
                    return line.split('=', 1)[1].strip().strip('\'"')
    except OSError:
        pass
    return None


def generate(name, path, out_path):
    raw, model = load(path)
    meta = model.get('metadata', {})
    shapes = model['shapes']
    names = reachable(model)
    index = {n: i for i, n in enumerate(names)}
    if len(names) >= U16_NONE:
        die('too many shapes for 16-bit indexes')

    # The string pool: member names and enum values, sorted, deduplicated.
    pool_set = set()
    for n in names:
        s = shapes[n]
        if s['type'] == 'structure' and not s.get('document'):
            pool_set.update(s.get('members', {}).keys())
        for v in s.get('enum', []):
            pool_set.add(v)
    pool = sorted(pool_set)
    offset = {}
    off = 0
    for p in pool:
        offset[p] = off
        off += len(p.encode('utf-8')) + 1

    members = []   # (name offset, shape index, required, comment)
    enums = []     # (offset, value)
    ranges = []    # (min or 0, max or 0)
    range_index = {}
    rows = []      # (fields, comment)
    for n in names:
        s = shapes[n]
        t = s['type']
        ctype = 'VT_DOCUMENT' if s.get('document') else TYPES[t]
        flags = []
        count = first = item = value = rng = 0
        if t == 'structure' and not s.get('document'):
            req = set(s.get('required', []))
            ms = s.get('members', {})
            unknown = req - set(ms)
            if unknown:
                die('%s: required members %s are not members' % (n, sorted(unknown)))
            first = len(members)
            count = len(ms)
            for mn in sorted(ms):
                members.append((offset[mn], index[ms[mn]['shape']],
                                1 if mn in req else 0, '%s.%s' % (n, mn)))
        elif t == 'list':
            item = index[s['member']['shape']]
        elif t == 'map':
            item = index[s['key']['shape']]
            value = index[s['value']['shape']]
        elif t == 'string' and 'enum' in s:
            first = len(enums)
            count = len(s['enum'])
            enums.extend((offset[v], v) for v in s['enum'])
        lo, hi = bound(n, s, 'min'), bound(n, s, 'max')
        if t in BOUNDED and (lo is not None or hi is not None):
            if lo is not None:
                flags.append('VSHAPE_MIN')
            if hi is not None:
                flags.append('VSHAPE_MAX')
            key = (lo or 0, hi or 0)
            if key not in range_index:
                range_index[key] = len(ranges)
                ranges.append(key)
            rng = range_index[key]
        if max(first, count) >= U16_NONE:
            die('table too large for 16-bit indexes')
        rows.append(((ctype, '|'.join(flags) or '0', count, first, item,
                      value, rng), n))

    ops = []
    for on in sorted(model['operations']):
        op = model['operations'][on]
        inp = op.get('input')
        ops.append((on, index[inp['shape']] if inp else None))

    lname = name.lower()
    sym = 'validate_model_' + lname
    disp = display_path(path)
    version = botocore_version(path)
    o = []
    o.append('/* Generated by tools/gen_shapes.py: do not edit.  Regenerate with')
    o.append(' *   BOTOCORE=$(python3 -c "import botocore,os;print(os.path.dirname(botocore.__file__))")')
    o.append(' *   python3 tools/gen_shapes.py %s %s %s' % (name, disp, out_path))
    o.append(' * Model: %s %s (%s protocol)%s, sha256 %s.' % (
        meta.get('endpointPrefix', lname), meta.get('apiVersion', '?'),
        meta.get('protocol', '?'),
        ', botocore ' + version if version else '',
        hashlib.sha256(raw).hexdigest()[:16]))
    o.append(' * %d operations, %d input shapes, %d members, %d enum values. */'
             % (len(ops), len(names), len(members), len(enums)))
    o.append('#include "api/validate.h"')
    o.append('')
    o.append('/* Member names and enum values, NUL-separated; tables hold offsets. */')
    o.append('static const char strs[] =')
    for p in pool:
        o.append('\t"%s\\0"' % c_string(p))
    o.append('\t;')
    o.append('')
    o.append('static const uint32_t enums[] = {')
    line = '\t'
    for off_, _ in enums:
        part = '%d,' % off_
        if len(line) + len(part) > 78:
            o.append(line.rstrip())
            line = '\t'
        line += part + ' '
    if line.strip():
        o.append(line.rstrip())
    o.append('};')
    o.append('')
    o.append('static const struct vrange ranges[] = {')
    for lo, hi in ranges:
        o.append('\t{%d, %d},' % (lo, hi))
    if not ranges:
        o.append('\t{0, 0},')
    o.append('};')
    o.append('')
    o.append('/* {name, shape, required}, sorted by name within each structure. */')
    o.append('static const struct vmember members[] = {')
    for off_, sh, req, comment in members:
        o.append('\t{%d, %d, %d}, /* %s */' % (off_, sh, req, comment))
    if not members:
        o.append('\t{0, 0, 0},')
    o.append('};')
    o.append('')
    o.append('/* {type, flags, count, first, item, value, range}: see validate.h. */')
    o.append('static const struct vshape shapes[] = {')
    for i, (f, comment) in enumerate(rows):
        o.append('\t{%s, %s, %d, %d, %d, %d, %d}, /* %d %s */'
                 % (f + (i, comment)))
    o.append('};')
    o.append('')
    o.append('static const struct vop ops[] = {')
    for on, inp in ops:
        o.append('\t{"%s", %s, &%s},' % (
            c_string(on), 'VSHAPE_NONE' if inp is None else inp, sym))
    o.append('};')
    o.append('')
    o.append('const struct vmodel %s = {' % sym)
    o.append('\t.name = "%s",' % c_string(lname))
    o.append('\t.strs = strs,')
    o.append('\t.enums = enums,')
    o.append('\t.ranges = ranges,')
    o.append('\t.members = members,')
    o.append('\t.shapes = shapes,')
    o.append('\t.nshapes = %d,' % len(names))
    o.append('\t.ops = ops,')
    o.append('\t.nops = %d,' % len(ops))
    o.append('};')
    text = '\n'.join(o) + '\n'
    tmp = out_path + '.tmp'
    with open(tmp, 'w', newline='\n') as f:
        f.write(text)
    os.replace(tmp, out_path)


def main(argv):
    if len(argv) != 4 or not argv[1].isidentifier():
        die('usage: gen_shapes.py NAME service-2.json[.gz] OUT.c')
    generate(argv[1], argv[2], argv[3])


if __name__ == '__main__':
    main(sys.argv)

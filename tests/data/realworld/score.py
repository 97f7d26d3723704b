#!/usr/bin/env python3
"""Score pii-auditd runs against hand-judged real-world sets (tests/data/realworld/*/truth.jsonl).

usage: score.py [options] TRUTH FINDINGS [TRUTH FINDINGS ...]

Each TRUTH is a set's truth.jsonl (its docs.jsonl, when beside it, gives each record's source and, for the
--unjudged-out file only, the values); each FINDINGS is the CSV of one scan of that set:
  copy (select record_id, json_path, category, rule, detector from pii_audit.findings where resolved_at is null)
  to stdout with csv header
(extra columns are ignored). bench/realworld.sh does the loading, scanning and exporting.

Matching (as dev/score.py, the set's original scorer):
- a finding is judged by the truth row with the same (record_id, json_path, category): true_pii -> TP,
  false_positive -> FP; a finding exactly at a `missed` row's place turns that miss into a TP (FN_fixed);
- a `missed` row also counts as found (FN_fixed) when a finding of its category sits at an ancestor or a
  descendant of its path; such a finding is a "covering" finding: neither TP nor FP itself (the misses it covers
  are the TPs), listed in the unjudged file for information;
- any other finding is unjudged: it counts in no precision figure until judged and added to truth.jsonl, EXCEPT
  that the floors (--min-*) count unjudged findings as false positives (a new finding is not known to be right);
- a true_pii row with no finding at its exact place is TP_lost, and counts as a miss in recall (the original
  scorer left it out of the recall denominator; with no lost rows the figures are the same).

Figures (per category, per set, and over all sets given):
- prec  = TP / (TP + FP)                       personal precision (the set's original figure)
- kprec = (TP + FP_np) / (TP + FP)             kind-precision: FP_np are false positives of class non_personal
                                               (the right kind of data, about no person), counted as correct
- rec_s = TP / (TP + FN_s + lost_s)            structured recall; rec_all adds free-text misses (FN_ft, lost_ft)

Output: stdout never prints a value (paths, categories, rules and counts only). --unjudged-out FILE writes the
unjudged and covering findings WITH their values (looked up in docs.jsonl) for the judge; keep that file out of CI
logs. --json FILE writes every figure as JSON. Floors make the exit code 1 when any set misses one.
"""
import argparse
import collections
import csv
import json
import os
import re
import sys

NON_PERSONAL = 'non_personal'


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog='TRUTH FINDINGS pairs: one per set; the set is named after TRUTH\'s folder.')
    ap.add_argument('pairs', nargs='+', metavar='TRUTH FINDINGS')
    ap.add_argument('--name', action='append', default=[], help='name of each set, in order (default: folder)')
    ap.add_argument('--json', metavar='FILE', help='write the figures as JSON to FILE')
    ap.add_argument('--unjudged-out', metavar='FILE',
                    help='write unjudged and covering findings with their values to FILE (for the judge only)')
    ap.add_argument('--min-kind-precision', type=float, help='floor on each set\'s kind-precision')
    ap.add_argument('--min-precision', type=float, help='floor on each set\'s personal precision')
    ap.add_argument('--min-recall', type=float, help='floor on each set\'s structured recall')
    ap.add_argument('--min-cat-precision', type=float,
                    help='floor on the precision of every category with at least --cat-min-findings findings')
    ap.add_argument('--cat-min-findings', type=int, default=20,
                    help='categories with fewer findings (TP+FP+unjudged) are exempt (default 20)')
    ap.add_argument('--cat-precision', choices=('kind', 'personal'), default='kind',
                    help='which precision --min-cat-precision applies to (default kind)')
    ap.add_argument('--max-unjudged', type=int, help='fail when a set has more unjudged findings')
    ap.add_argument('--no-sources', action='store_true', help='do not print the per-source tables')
    ap.add_argument('--unjudged-list', type=int, default=30, help='unjudged findings listed on stdout per set (paths only)')
    a = ap.parse_args(argv)
    if len(a.pairs) % 2:
        ap.error('give TRUTH FINDINGS pairs')
    return a


def related(a, b):
    """a and b are the same path, or one is an ancestor of the other."""
    if a == b:
        return True
    if len(a) > len(b):
        a, b = b, a
    return b.startswith(a) and b[len(a)] in '.['


# --- paths in pii-auditd syntax: $ .ident ["json string"] [N] .<label> ---
SEG = re.compile(r'\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|\.<([a-z_]+)>')


def parse_path(p):
    if not p.startswith('$'):
        return None
    out, i = [], 1
    while i < len(p):
        m = SEG.match(p, i)
        if not m:
            return None
        if m.group(1) is not None:
            out.append(('k', m.group(1)))
        elif m.group(2) is not None:
            out.append(('i', int(m.group(2))))
        elif m.group(3) is not None:
            out.append(('k', json.loads(m.group(3))))
        else:
            out.append(('label', m.group(4)))
        i = m.end()
    return out


def lookup(doc, path):
    """The value at a pii-auditd path, or a note saying why there is none. A redacted key (.<email>) is the
    member whose name holds an '@' (the first one)."""
    segs = parse_path(path)
    if segs is None:
        return '<unparsed path>'
    v = doc
    for kind, s in segs:
        if kind == 'i':
            if not isinstance(v, list) or s >= len(v):
                return '<no such index>'
            v = v[s]
        elif kind == 'k':
            if not isinstance(v, dict) or s not in v:
                return '<no such key>'
            v = v[s]
        else:
            if not isinstance(v, dict):
                return '<no such key>'
            keys = [k for k in v if '@' in k] if s == 'email' else list(v)
            if not keys:
                return '<redacted key>'
            return {'redacted_key': keys[0], 'value': v[keys[0]]}
    return v


def load_set(truth_file, findings_file, name):
    d = os.path.dirname(os.path.abspath(truth_file))
    truth = [json.loads(l) for l in open(truth_file) if l.strip()]
    runs = list(csv.DictReader(open(findings_file, newline='')))
    docs_file = os.path.join(d, 'docs.jsonl')
    docs = None
    if os.path.exists(docs_file):
        docs = [json.loads(l) for l in open(docs_file) if l.strip()]
    return {'name': name, 'dir': d, 'truth': truth, 'runs': runs, 'docs': docs}


def score_set(S):
    truth, runs, docs = S['truth'], S['runs'], S['docs']
    src_of = {}
    kind_of = {}
    if docs:
        for i, r in enumerate(docs):
            src_of[i + 1] = r.get('source', '?')
            if 'kind' in r:
                kind_of[r.get('source', '?')] = r['kind']
    for t in truth:
        src_of.setdefault(int(t['record_id']), t['source'])
    # a set's README names each source's kind in its sources table: | `source` | a | ...
    readme = os.path.join(S['dir'], 'README.md')
    if os.path.exists(readme):
        for line in open(readme):
            m = re.match(r'\|\s*`([^`]+)`\s*\|\s*([abc])\s*\|', line)
            if m:
                kind_of.setdefault(m.group(1), m.group(2))
    judged = {}
    missed = collections.defaultdict(list)  # (record, category) -> [truth rows]
    for t in truth:
        key = (int(t['record_id']), t['json_path'], t['category'])
        if t['verdict'] == 'missed':
            missed[(key[0], key[2])].append(t)
        else:
            if key in judged:
                raise SystemExit(f"{S['name']}: two truth rows for {key}")
            judged[key] = t
    found = collections.defaultdict(list)
    run_keys = set()
    for r in runs:
        rid = int(r['record_id'])
        found[(rid, r['category'])].append(r['json_path'])
        run_keys.add((rid, r['json_path'], r['category']))

    cat = collections.defaultdict(collections.Counter)
    src = collections.defaultdict(collections.Counter)
    for s in set(src_of.values()):
        src[s]  # sources with no finding and no truth row still get a line
    unjudged, covering = [], []
    for r in runs:
        rid, p, c = int(r['record_id']), r['json_path'], r['category']
        s = src_of.get(rid, '?')
        cat[c]['n'] += 1
        t = judged.get((rid, p, c))
        if t is not None:
            if t['verdict'] == 'true_pii':
                cat[c]['tp'] += 1; src[s]['tp'] += 1
            else:
                cat[c]['fp'] += 1; src[s]['fp'] += 1
                if t.get('class', '').startswith(NON_PERSONAL):
                    cat[c]['fp_np'] += 1; src[s]['fp_np'] += 1
            continue
        ms = missed.get((rid, c), [])
        if any(m['json_path'] == p for m in ms):
            continue  # exactly a former miss: counted below as FN_fixed
        if any(related(m['json_path'], p) for m in ms):
            covering.append(r)
            cat[c]['covering'] += 1
            continue
        unjudged.append(r)
        cat[c]['unjudged'] += 1; src[s]['unjudged'] += 1
    for (rid, c), ms in missed.items():
        for m in ms:
            s = src_of.get(rid, m['source'])
            if any(related(p, m['json_path']) for p in found.get((rid, c), [])):
                cat[c]['fixed'] += 1; cat[c]['tp'] += 1; src[s]['tp'] += 1
            else:
                cat[c]['fn_' + ('ft' if m['where'] == 'free_text' else 's')] += 1
                src[s]['missed'] += 1
    for key, t in judged.items():
        if t['verdict'] == 'true_pii' and key not in run_keys:
            c = t['category']
            cat[c]['lost'] += 1
            cat[c]['lost_' + ('ft' if t['where'] == 'free_text' else 's')] += 1
            src[src_of.get(key[0], t['source'])]['lost'] += 1
    # every category that has truth rows appears, even with nothing found
    for t in truth:
        cat[t['category']]
    S.update(cat=cat, src=src, unjudged=unjudged, covering=covering, src_of=src_of, kind_of=kind_of)
    return S


def ratio(a, b):
    return a / b if b else None


def figures(c):
    tp, fp, np_ = c['tp'], c['fp'], c['fp_np']
    fs, ff = c['fn_s'] + c['lost_s'], c['fn_ft'] + c['lost_ft']
    u = c['unjudged']
    return {
        'tp': tp, 'fp': fp, 'fp_non_personal': np_, 'unjudged': u, 'covering': c['covering'],
        'missed_structured': c['fn_s'], 'missed_free_text': c['fn_ft'], 'tp_lost': c['lost'],
        'fn_fixed': c['fixed'],
        'precision': ratio(tp, tp + fp), 'kind_precision': ratio(tp + np_, tp + fp),
        'recall_structured': ratio(tp, tp + fs), 'recall_all': ratio(tp, tp + fs + ff),
        # what the floors use: unjudged findings count as false positives
        'precision_floor': ratio(tp, tp + fp + u), 'kind_precision_floor': ratio(tp + np_, tp + fp + u),
        'findings': c['n'],
    }


def total(counters):
    t = collections.Counter()
    for c in counters:
        t.update(c)
    return t


def fmt(x, w=6):
    return f'{x:{w}.3f}' if x is not None else f"{'n/a':>{w}s}"


HEAD = (f"{'category':15s} {'TP':>5s} {'FP':>5s} {'prec':>6s} {'FN_s':>5s} {'FN_ft':>6s} {'rec_s':>6s} "
        f"{'rec_all':>7s} {'TP_lost':>7s} {'FN_fixed':>8s} {'FP_np':>5s} {'kprec':>6s} {'unjud':>5s}")


def cat_line(name, c):
    f = figures(c)
    return (f"{name:15s} {f['tp']:5d} {f['fp']:5d} {fmt(f['precision'])} {c['fn_s']:5d} {c['fn_ft']:6d} "
            f"{fmt(f['recall_structured'])} {fmt(f['recall_all'], 7)} {c['lost']:7d} {c['fixed']:8d} "
            f"{f['fp_non_personal']:5d} {fmt(f['kind_precision'])} {f['unjudged']:5d}")


def print_set(S, a, out):
    cat = S['cat']
    ndocs = len(S['docs']) if S['docs'] is not None else None
    print(f"== {S['name']}: {ndocs if ndocs is not None else '?'} docs, {len(S['runs'])} findings, "
          f"{len(S['truth'])} truth rows", file=out)
    print(HEAD, file=out)
    for c in sorted(cat):
        print(cat_line(c, cat[c]), file=out)
    tot = total(cat.values())
    print(cat_line('ALL', tot), file=out)
    f = figures(tot)
    print(f"headline {S['name']}: kind-precision {fmt(f['kind_precision'], 0)} "
          f"({f['tp'] + f['fp_non_personal']}/{f['tp'] + f['fp']}), personal precision {fmt(f['precision'], 0)} "
          f"({f['tp']}/{f['tp'] + f['fp']}), structured recall {fmt(f['recall_structured'], 0)} "
          f"({f['tp']}/{f['tp'] + tot['fn_s'] + tot['lost_s']}), recall incl. free text {fmt(f['recall_all'], 0)}; "
          f"unjudged {f['unjudged']}, covering {f['covering']}", file=out)
    if not a.no_sources:
        src = S['src']
        print(f"  {'source':24s} {'kind':>4s} {'TP':>5s} {'FP':>5s} {'FP_np':>5s} {'missed':>6s} {'lost':>5s} "
              f"{'unjud':>5s}", file=out)
        for s in sorted(src, key=lambda s: (S['kind_of'].get(s, '?'), s)):
            c = src[s]
            print(f"  {s:24s} {S['kind_of'].get(s, '?'):>4s} {c['tp']:5d} {c['fp']:5d} {c['fp_np']:5d} "
                  f"{c['missed']:6d} {c['lost']:5d} {c['unjudged']:5d}", file=out)
        kinds = collections.defaultdict(collections.Counter)
        for s, c in src.items():
            kinds[S['kind_of'].get(s, '?')].update(c)
        for k in sorted(kinds):
            c = kinds[k]
            print(f"  {'kind ' + k:24s} {k:>4s} {c['tp']:5d} {c['fp']:5d} {c['fp_np']:5d} {c['missed']:6d} "
                  f"{c['lost']:5d} {c['unjudged']:5d}  prec {fmt(ratio(c['tp'], c['tp'] + c['fp']), 0)} "
                  f"kprec {fmt(ratio(c['tp'] + c['fp_np'], c['tp'] + c['fp']), 0)} "
                  f"rec {fmt(ratio(c['tp'], c['tp'] + c['missed'] + c['lost']), 0)}", file=out)
    print(f"unjudged findings: {len(S['unjudged'])}", file=out)
    for r in S['unjudged'][:a.unjudged_list]:
        print('  ', r['record_id'], S['src_of'].get(int(r['record_id']), '?'), r['json_path'], r['category'],
              r['rule'], file=out)
    if len(S['unjudged']) > a.unjudged_list:
        print(f"   ... {len(S['unjudged']) - a.unjudged_list} more (--unjudged-out FILE lists them all)", file=out)


def check_floors(name, cat, a):
    fails = []
    f = figures(total(cat.values()))
    def below(x, floor):
        return x is None or x < floor
    if a.min_kind_precision is not None and below(f['kind_precision_floor'], a.min_kind_precision):
        fails.append(f"{name}: kind-precision {fmt(f['kind_precision_floor'], 0)} < {a.min_kind_precision} "
                     f"(unjudged findings counted as false positives)")
    if a.min_precision is not None and below(f['precision_floor'], a.min_precision):
        fails.append(f"{name}: personal precision {fmt(f['precision_floor'], 0)} < {a.min_precision} "
                     f"(unjudged findings counted as false positives)")
    if a.min_recall is not None and below(f['recall_structured'], a.min_recall):
        fails.append(f"{name}: structured recall {fmt(f['recall_structured'], 0)} < {a.min_recall}")
    if a.min_cat_precision is not None:
        for c in sorted(cat):
            fc = figures(cat[c])
            if fc['findings'] < a.cat_min_findings:
                continue
            p = fc['kind_precision_floor'] if a.cat_precision == 'kind' else fc['precision_floor']
            if below(p, a.min_cat_precision):
                fails.append(f"{name}: {c} {a.cat_precision} precision {fmt(p, 0)} < {a.min_cat_precision} "
                             f"({fc['findings']} findings)")
    if a.max_unjudged is not None and f['unjudged'] > a.max_unjudged:
        fails.append(f"{name}: {f['unjudged']} unjudged findings > {a.max_unjudged}")
    return fails


def write_unjudged(sets, path):
    with open(path, 'w') as out:
        out.write('# unjudged and covering findings WITH VALUES (from docs.jsonl): for the judge, never for CI logs\n')
        for S in sets:
            docs = S['docs']
            for what, rows in (('unjudged', S['unjudged']), ('covering', S['covering'])):
                for r in rows:
                    rid = int(r['record_id'])
                    rec = {'set': S['name'], 'status': what, 'record_id': rid, 'doc_index': rid - 1,
                           'source': S['src_of'].get(rid, '?'), 'json_path': r['json_path'],
                           'category': r['category'], 'rule': r['rule'], 'detector': r.get('detector')}
                    if docs is not None and 0 < rid <= len(docs):
                        rec['origin'] = docs[rid - 1].get('origin')
                        rec['value'] = lookup(docs[rid - 1]['doc'], r['json_path'])
                    out.write(json.dumps(rec, ensure_ascii=False) + '\n')


def main(argv):
    a = parse_args(argv)
    pairs = [(a.pairs[i], a.pairs[i + 1]) for i in range(0, len(a.pairs), 2)]
    sets = []
    for n, (t, f) in enumerate(pairs):
        name = a.name[n] if n < len(a.name) else os.path.basename(os.path.dirname(os.path.abspath(t)))
        sets.append(score_set(load_set(t, f, name)))
    fails = []
    for S in sets:
        print_set(S, a, sys.stdout)
        fails += check_floors(S['name'], S['cat'], a)
        print(file=sys.stdout)
    if len(sets) > 1:
        allcat = collections.defaultdict(collections.Counter)
        for S in sets:
            for c, v in S['cat'].items():
                allcat[c].update(v)
        print('== all sets together', file=sys.stdout)
        print(HEAD)
        for c in sorted(allcat):
            print(cat_line(c, allcat[c]))
        print(cat_line('ALL', total(allcat.values())))
        f = figures(total(allcat.values()))
        print(f"headline all: kind-precision {fmt(f['kind_precision'], 0)}, personal precision "
              f"{fmt(f['precision'], 0)}, structured recall {fmt(f['recall_structured'], 0)}; unjudged {f['unjudged']}")
    if a.unjudged_out:
        write_unjudged(sets, a.unjudged_out)
    if a.json:
        js = {'sets': []}
        for S in sets:
            js['sets'].append({
                'name': S['name'], 'dir': S['dir'], 'docs': len(S['docs']) if S['docs'] is not None else None,
                'findings': len(S['runs']), 'truth_rows': len(S['truth']),
                'total': figures(total(S['cat'].values())),
                'categories': {c: figures(S['cat'][c]) for c in sorted(S['cat'])},
                'sources': {s: dict(S['src'][s], kind=S['kind_of'].get(s)) for s in sorted(S['src'])},
                'unjudged': [{k: r.get(k) for k in ('record_id', 'json_path', 'category', 'rule', 'detector')}
                             for r in S['unjudged']],
            })
        js['floors'] = {k: getattr(a, k) for k in ('min_kind_precision', 'min_precision', 'min_recall',
                                                   'min_cat_precision', 'cat_min_findings', 'cat_precision',
                                                   'max_unjudged')}
        js['floor_failures'] = fails
        with open(a.json, 'w') as out:
            json.dump(js, out, indent=1, sort_keys=True)
            out.write('\n')
    if fails:
        print('FLOORS NOT MET:')
        for x in fails:
            print('  ' + x)
        return 1
    if any(getattr(a, k) is not None for k in ('min_kind_precision', 'min_precision', 'min_recall',
                                                'min_cat_precision', 'max_unjudged')):
        print('floors met')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

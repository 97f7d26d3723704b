#!/usr/bin/env python3
"""Rebuild docs.jsonl of the `extra` real-world set from the public repositories it was taken from.

usage: extract.py MIRRORS_DIR [OUT]     (OUT default: docs.jsonl beside this script)

MIRRORS_DIR holds one bare git directory per repository, named owner+name/repo (as `git clone --bare` of
https://github.com/owner/name into MIRRORS_DIR/owner+name/repo would give); each file is read at the commit pinned
in COMMITS below, so the output is the same byte for byte whenever the commits are reachable. Selection is seeded
(random.Random(SEED)); exact duplicate documents are dropped. Reads only; writes only OUT. The documents are public
fixture, sample and test data; each line keeps its origin `owner/repo/path@commit#pointer` (README.md: sources,
licences).
"""
import json
import os
import random
import subprocess
import sys

import yaml  # python3-yaml (Panther rule files are YAML)

SEED = 20261207
COMMITS = {
    'panther-labs/panther-analysis': 'daa10c888566839e9918dfba1cd652743781e5fe',
    'trailheadapps/coral-cloud': 'a25e9acba9b498ee739b513b2a4e0113fd556529',
    'trailheadapps/dreamhouse-lwc': '9f41bfff59de2a4598a432576a580a44837ef84e',
    'trailheadapps/ebikes-lwc': '4b9e2bcca51d247d8a56973a199e86ce993a80b1',
    'stripe/openapi': 'f6c2a48fbac2819d1feba8143d942ffc65e1c0d2',
    'octokit/webhooks': '3a58428aa5c399cf5aa12c8663aea1fb1f515254',
    'prebid/prebid-server': '0ba352315253f6692af6497d553cfb12909a1b8b',
}
MIRRORS = None


def git(repo, *args):
    gd = os.path.join(MIRRORS, repo.replace('/', '+'), 'repo')
    return subprocess.run(['git', '--git-dir', gd, *args], check=True, capture_output=True).stdout


def show(repo, path):
    return git(repo, 'show', f'{COMMITS[repo]}:{path}')


def ls(repo, prefix):
    out = git(repo, 'ls-tree', '-r', '--name-only', COMMITS[repo], '--', prefix).decode()
    return sorted(p for p in out.split('\n') if p)


def origin(repo, path, pointer=''):
    return f'{repo}/{path}@{COMMITS[repo]}' + (f'#{pointer}' if pointer else '')


def jsonable(x):
    """YAML may give dates and datetimes; the documents keep them as the text they were written as."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, list):
        return [jsonable(v) for v in x]
    if isinstance(x, (str, int, float, bool)) or x is None:
        return x
    return str(x)


def idp_logs(rng):
    """Identity-provider sign-in and admin logs: the test events of Panther's detection rules."""
    repo = 'panther-labs/panther-analysis'
    quota = {'okta_rules': 30, 'auth0_rules': 20, 'azure_signin_rules': 15, 'duo_rules': 13,
             'onelogin_rules': 12, 'onepassword_rules': 5, 'gsuite_reports_rules': 5}
    out = []
    for d, n in quota.items():
        cands = []
        for p in ls(repo, f'rules/{d}'):
            if not p.endswith('.yml'):
                continue
            y = yaml.safe_load(show(repo, p))
            for i, t in enumerate((y or {}).get('Tests') or []):
                if isinstance(t.get('Log'), dict):
                    cands.append((origin(repo, p, f'/Tests/{i}/Log'), jsonable(t['Log'])))
        out += [('idp_logs', d.replace('_rules', ''), o, doc) for o, doc in pick(rng, cands, n)]
    return out


def sf_records(repo, path):
    recs = json.loads(show(repo, path))['records']
    return [(origin(repo, path, f'/records/{i}'), r) for i, r in enumerate(recs)]


def salesforce(rng):
    """Salesforce sample-app data (sObject tree import files): people records and catalog records."""
    crm = []
    crm += [('Contact', *x) for x in pick(rng, sf_records('trailheadapps/coral-cloud', 'data/data-Contact.json'), 35)]
    crm += [('Case', *x) for x in sf_records('trailheadapps/coral-cloud', 'data/data-Case.json')]
    crm += [('Guest_Review__c', *x) for x in pick(rng, sf_records('trailheadapps/coral-cloud',
                                                                   'data/data-Guest_Review__c.json'), 5)]
    crm += [('Broker__c', *x) for x in sf_records('trailheadapps/dreamhouse-lwc', 'data/brokers-data.json')]
    crm += [('Contact', *x) for x in sf_records('trailheadapps/dreamhouse-lwc', 'data/contacts-data.json')]
    cat = []
    cat += [('Property__c', *x) for x in sf_records('trailheadapps/dreamhouse-lwc', 'data/properties-data.json')]
    cat += [('Account', *x) for x in sf_records('trailheadapps/ebikes-lwc', 'data/Accounts.json')]
    cat += [('Experience__c', *x) for x in pick(rng, sf_records('trailheadapps/coral-cloud',
                                                                 'data/data-Experience__c.json'), 15)]
    cat += [('Product__c', *x) for x in pick(rng, sf_records('trailheadapps/ebikes-lwc', 'data/Product__cs.json'), 10)]
    return ([('salesforce_crm', s, o, d) for s, o, d in crm], [('salesforce_catalog', s, o, d) for s, o, d in cat])


def stripe(rng):
    """Stripe API objects: the fixtures stripe-mock serves (one per resource type)."""
    repo, path = 'stripe/openapi', 'openapi/fixtures3.json'
    res = json.loads(show(repo, path))['resources']
    cands = [(name, origin(repo, path, f'/resources/{name}'), res[name]) for name in sorted(res)]
    return [('stripe_fixtures', n, o, d) for n, o, d in pick(rng, cands, 110)]


def github(rng):
    """GitHub webhook deliveries: octokit's payload examples, one per event type."""
    repo = 'octokit/webhooks'
    by_event = {}
    for p in ls(repo, 'payload-examples/api.github.com'):
        if p.endswith('.payload.json'):
            by_event.setdefault(p.split('/')[2], []).append(p)
    events = pick(rng, sorted(by_event), 60)
    out = []
    for e in events:
        p = rng.choice(by_event[e])
        out.append(('github_webhooks', e, origin(repo, p), json.loads(show(repo, p))))
    return out


def prebid(rng):
    """OpenRTB bid requests (what an ad exchange receives) and bid responses (what bidders answer), from the
    adapter tests of Prebid Server; at most one document per adapter and kind."""
    repo = 'prebid/prebid-server'
    files = [p for p in ls(repo, 'adapters') if '/exemplary/' in p and p.endswith('.json')]
    by_adapter = {}
    for p in files:
        by_adapter.setdefault(p.split('/')[1], []).append(p)
    adapters = sorted(by_adapter)
    rng.shuffle(adapters)
    req, resp = [], []
    for a in adapters:
        p = rng.choice(by_adapter[a])
        try:
            t = json.loads(show(repo, p))
        except ValueError:
            continue
        if len(req) < 70:
            if isinstance(t.get('mockBidRequest'), dict):
                req.append(('openrtb_bid_requests', a, origin(repo, p, '/mockBidRequest'), t['mockBidRequest']))
        elif len(resp) < 60:
            calls = t.get('httpCalls') or []
            for i, c in enumerate(calls):
                body = (c.get('mockResponse') or {}).get('body')
                if isinstance(body, dict) and body:
                    resp.append(('openrtb_bid_responses', a, origin(repo, p, f'/httpCalls/{i}/mockResponse/body'),
                                 body))
                    break
        else:
            break
    return req, resp


def pick(rng, items, n):
    items = list(items)
    if len(items) <= n:
        return items
    idx = sorted(rng.sample(range(len(items)), n))
    return [items[i] for i in idx]


KIND = {'idp_logs': 'a', 'salesforce_crm': 'a', 'stripe_fixtures': 'b', 'github_webhooks': 'b',
        'openrtb_bid_requests': 'b', 'openrtb_bid_responses': 'c', 'salesforce_catalog': 'c'}


def main():
    global MIRRORS
    MIRRORS = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)), 'docs.jsonl')
    rows = []
    rows += idp_logs(random.Random(SEED + 1))
    crm, cat = salesforce(random.Random(SEED + 2))
    rows += crm
    rows += stripe(random.Random(SEED + 3))
    rows += github(random.Random(SEED + 4))
    req, resp = prebid(random.Random(SEED + 5))
    rows += req + resp + cat
    seen, kept = set(), []
    for source, sub, orig, doc in rows:
        key = json.dumps(doc, sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        kept.append({'source': source, 'sub': sub, 'kind': KIND[source], 'origin': orig, 'doc': doc})
    with open(out, 'w') as f:
        for r in kept:
            f.write(json.dumps(r, ensure_ascii=False) + '\n')
    print(f'{out}: {len(kept)} documents ({len(rows) - len(kept)} duplicates dropped)', file=sys.stderr)
    for r in COMMITS:
        print(f'  {r} @ {COMMITS[r]}', file=sys.stderr)


if __name__ == '__main__':
    main()

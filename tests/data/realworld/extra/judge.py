#!/usr/bin/env python3
"""The judgments of the `extra` set, written as rules over groups, and the truth.jsonl they produce.

usage: judge.py FINDINGS.csv CANDIDATES.jsonl > truth.jsonl

FINDINGS.csv: the open findings of the judged run (bench/realworld.sh, build of 6840fc2 = detectors of 819299d).
CANDIDATES.jsonl: ../candidates.py over docs.jsonl (the independent candidate generator).
Every unit (a finding, or a candidate the run did not cover) is looked up in the rules below, in order; the first
rule whose source, category, path pattern and test match gives the verdict:
  T              a true item: true_pii when found, missed when not;
  F:<class>      not personal data of that category: false_positive when found; when not found the row is kept
                 only for look-alikes a detector could plausibly report (the rule says keep=True), marked
                 "prejudged": true, so that a later build that reports them is scored without a new judgment;
  None           no truth row (the candidate is not data of the category, or out of scope); a FINDING that falls
                 to None is an error: every finding gets a verdict.
The rules were written after reading every distinct (source, category, path pattern, value) group and the hand
sample (README.md, "How it was judged"). The values named here are public fixture values.
"""
import csv
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from score import parse_path, related  # noqa: E402

DOCS = [json.loads(l) for l in open(os.path.join(HERE, 'docs.jsonl'))]


def node(doc, path):
    """(parent object or list, key, value) at a path; None when the path does not resolve."""
    segs = parse_path(path)
    if segs is None:
        return None
    parent, key, v = None, None, doc
    for kind, s in segs:
        if kind == 'label':
            return None
        if kind == 'i':
            if not isinstance(v, list) or s >= len(v):
                return None
        elif not isinstance(v, dict) or s not in v:
            return None
        parent, key, v = v, s, v[s]
    return parent, key, v


def up(doc, path, n=1):
    """The value n levels above path (object or list)."""
    segs = parse_path(path)
    v = doc
    for kind, s in segs[:len(segs) - n]:
        v = v[s]
    return v


PLACEHOLDER_FIELD = re.compile(r'^[a-z_]+$')


def all_empty(v):
    if isinstance(v, dict):
        return all(all_empty(x) for x in v.values())
    if isinstance(v, list):
        return all(all_empty(x) for x in v)
    return v is None or v == '' or v is False


def is_email(v):
    return isinstance(v, str) and re.fullmatch(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}", v) is not None


# ---- per-source rules: (category, path regex, test(u) -> bool, verdict, keep_prejudged) ----
# u: dict with rid, path, pat ([*] for indices), cat, value, found, doc, sub

def sib(u, key):
    """A sibling member of the unit's key (in the same object)."""
    p = up(u['doc'], u['path'])
    return p.get(key) if isinstance(p, dict) else None


def holder(u, n=2):
    return up(u['doc'], u['path'], n)


ANY = lambda u: True  # noqa: E731

IDP = [
    # --- email
    ('email', r'\$\.admin_email$', lambda u: u['value'].startswith('svc-'),
     'F:non_personal: service account (svc-admin) e-mail', False),
    ('email', r'.', lambda u: is_email(u['value']) or isinstance(u['value'], list),
     'T:email of a user (actor, target, admin, invitee, principal)', False),
    # --- ip
    ('ip_address', r'behaviors\["New IP"\]$', ANY, 'F:not_ip: a risk flag ("NEGATIVE") under a "New IP" key', False),
    ('ip_address', r'\.client\.ip_address$', lambda u: u['value'] == '1.1.1.1.1',
     'F:not_ip: malformed fixture value (five octets)', False),
    ('ip_address', r'p_any_ip_addresses$', lambda u: u['value'] == ['redacted'],
     'F:no_data: a list holding only the placeholder "redacted"', False),
    ('ip_address', r'\.ipChain\[\*\]\.ip$', lambda u: u['value'] == 'redacted', None, False),
    ('ip_address', r'\.request\.ipChain$', ANY, None, False),
    ('ip_address', r'userAgent|user_agent|\.platform_version$|<key>', ANY,
     'F:not_ip: version number in a user agent / platform version', True),
    ('ip_address', r'\.data\.description$', ANY, 'T:ip address of a client / end user (in message text)', False),
    ('ip_address', r'.', ANY, 'T:ip address of a client / end user', False),
    # --- geolocation
    ('geolocation', r'behaviors\["New Geo-Location"\]$', ANY,
     'F:not_geo: a risk flag ("NEGATIVE") under a "New Geo-Location" key', False),
    ('geolocation', r'(geographicalContext\.geolocation|location\.geoCoordinates)$', ANY,
     'T:geolocation of a person (geo-IP location of a sign-in)', False),
    ('geolocation', r'(\.location|tenantGeo)$', ANY, None, False),  # a country or a city alone
    ('mac_address', r'^\$\.uuid$', ANY, 'F:not_mac: MAC-shaped fixture value of an event uuid', False),
    ('phone', r'authenticator\.phone_number$', ANY, 'T:phone', False),
    ('postal_code', r'geographicalContext\.postalCode$', ANY, 'T:postal code (geo-IP location of a sign-in)', False),
    ('street_address', r'p_any_ip_addresses', ANY, None, False),
    # --- person names
    ('person_name', r'^\$\.actor\.displayName$', lambda u: sib(u, 'type') == 'User', 'T:person name field', False),
    ('person_name', r'^\$\.actor\.displayName$', ANY, 'F:not_name: display name of an app (public client) actor', True),
    ('person_name', r'^\$\.target\[\*\]\.displayName$', lambda u: sib(u, 'type') in ('User', 'AppUser'),
     'T:person name field', False),
    ('person_name', r'^\$\.target\[\*\]\.displayName$', ANY,
     'F:not_name: display name of an app, token or code (target object)', True),
    ('person_name', r'targetResources\[\*\]\.displayName$', lambda u: sib(u, 'type') == 'User',
     'T:person name field', False),
    ('person_name', r'targetResources\[\*\]\.displayName$', ANY,
     'F:not_name: display name of a policy, domain, role or service principal', True),
    ('person_name', r'modifiedProperties\[\*\]\.displayName$', ANY, 'F:not_name: name of a modified property', True),
    ('person_name', r'(initiatedBy\.user\.displayName|\.userDisplayName|^\$\.identity|^\$\.actorName|'
                    r'^\$\.actor_user_name|^\$\.user_name|^\$\.username)$',
     lambda u: isinstance(u['value'], str) and not is_email(u['value']) and u['value'].strip() != '',
     'T:person name field', False),
    ('person_name', r'(inviter\.name|target_user\.name|^\$\.user\.name|auth\.user\.name)$',
     lambda u: isinstance(u['value'], str) and not is_email(u['value']), 'T:person name field', False),
    ('person_name', r'(request\.body\.name)$', ANY, 'F:not_name: name of a role', True),
    ('person_name', r'(bindings\[\*\].*name|\.display_name)$', ANY, 'F:not_name: name of an action binding', True),
    ('person_name', r'^\$\.device\.name$', ANY, 'F:not_name: name of a device', True),
    ('person_name', r'^\$\.name$', ANY, 'F:not_name: event name', True),
    ('person_name', r'^\$\.application\.name$', ANY, 'F:not_name: name of an application', True),
    ('person_name', r'(appDisplayName|resourceDisplayName)$', ANY, 'F:not_name: name of an application / resource',
     True),
]

SF_CRM = [
    ('person_name', r'^\$\.(FirstName|LastName|Preferred_Name__c)$', ANY, 'T:person name field', False),
    ('person_name', r'^\$\.Name$', lambda u: u['doc']['attributes']['type'] == 'Broker__c',
     'T:name of a person record (Salesforce Broker__c)', False),
    ('email', r'.', ANY, 'T:email', False),
    ('phone', r'.', ANY, 'T:phone', False),
    ('postal_code', r'.', ANY, 'T:postal code', False),
    ('street_address', r'.', ANY, 'T:address', False),
    ('date_of_birth', r'.', ANY, 'T:birth date', False),
]

SF_CAT = [
    ('street_address', r'^\$\.BillingStreet$', ANY, 'F:non_personal: organisation (Account) address', False),
    ('postal_code', r'^\$\.BillingPostalCode$', ANY, 'F:non_personal: organisation (Account) postal code', False),
    ('street_address', r'^\$\.Address__c$', ANY, 'F:non_personal: address of a property listed for sale (a place)',
     True),
    ('postal_code', r'^\$\.Zip__c$', ANY, 'F:non_personal: postal code of a property listed for sale (a place)', True),
    ('geolocation', r'^\$$', ANY, 'F:non_personal: coordinates of a property listed for sale (a place)', True),
    ('geolocation', r'^\$\.Location__c$', ANY, None, False),  # "Beach", "Cultural Venues": a kind of place
    ('person_name', r'^\$\.Name$', ANY, 'F:not_name: name of a property, account, experience or product', True),
]

STRIPE = [
    ('street_address', r'.', lambda u: all_empty(u['value']),
     'F:no_data: container whose members are all empty', False),
    ('street_address', r'(head_office\.address|ship_from_details\.address)$', ANY,
     'F:non_personal: business (head office / ship-from) address', False),
    ('street_address', r'custom_text\.shipping_address$', ANY,
     'F:not_address: checkout custom-text setting {"message": ...}', False),
    ('street_address', r'^\$\.financial_addresses$', ANY,
     'F:not_address: bank routing details of a treasury account ("financial addresses")', False),
    ('street_address', r'\.address$', ANY, 'T:address', False),
    ('street_address', r'\.line[12]$', ANY, None, False),  # inside an address container: the container is the unit
    ('date_of_birth', r'\.dob$', lambda u: all_empty(u['value']), 'F:no_data: container whose members are all empty',
     False),
    ('email', r'^\$\.email$', lambda u: u['sub'] in ('account', 'payment_source'),
     'F:non_personal: e-mail of a business (Connect account)', False),
    ('email', r'.', ANY, 'T:email of a customer, cardholder or dashboard user', False),
    ('phone', r'.', ANY, 'T:phone', False),
    ('postal_code', r'(merchant_data\.postal_code|ship_from_details\.address\.postal_code)$', ANY,
     'F:non_personal: merchant / ship-from postal code', False),
    ('postal_code', r'^\$\.zip$', ANY, 'F:not_postcode: payment-method configuration of the "Zip" wallet', False),
    ('postal_code', r'.', ANY, 'T:postal code', False),
    ('ip_address', r'^\$\.ip_address$', lambda u: u['sub'] == 'terminal.reader',
     'F:non_personal: IP of a merchant card reader on its LAN', False),
    ('ip_address', r'.', ANY, 'T:ip address of a client / end user (mandate acceptance)', False),
    ('iban', r'us_bank_account$', lambda u: 'display_preference' in u['value'],
     'F:not_iban: payment-method configuration entry', False),
    ('iban', r'us_bank_account$', ANY, 'F:not_iban: bank account summary (bank name, last 4, routing number)',
     False),
    ('geolocation', r'^\$\.locations\[\*\]$', ANY, 'F:non_personal: facility location (climate supplier)', False),
    ('person_name', r'(billing_details\.name|cardholder\.name|account_holder_name)$',
     lambda u: u['value'] != 'name', 'T:person name field', False),
    ('person_name', r'\.name$', lambda u: u['value'] == 'name', None, False),  # placeholder: the field's own name
    ('person_name', r'(merchant_data\.name|sender_name)$', ANY, 'F:non_personal: name of a business', True),
    ('person_name', r'^\$\.name$', ANY, 'F:not_name: name of a product, secret, bundle, list or configuration', True),
    ('person_name', r'headers\[\*\]\.name$', ANY, 'F:not_name: HTTP header name', True),
    ('person_name', r'(display_name|public_name)$', lambda u: not PLACEHOLDER_FIELD.match(u['value']),
     'F:not_name: display name of a meter, account, tax rate or beneficiary organisation', True),
    ('person_name', r'entitlements\.data\[\*\]\.feature\.name$', ANY, None, False),
    ('credit_card', r'.', ANY, None, False),  # card objects: brand, last4, expiry; no number
]

GH_NOT_PERSON_NAME = (r'(repository|repo|forkee|repositories(_added)?\[\*\]|head_repository|app|package|registry|'
                      r'label|labels\[\*\]|team|project|project_column|plan|hook|workflow|workflow_job|'
                      r'workflow_run|workflow_job_run|steps\[\*\]|branches\[\*\]|category|license|tool|rule|'
                      r'check_run|reviewer|info|package_version|dependency|vulnerabilities\[\*\]\.package|'
                      r'security_vulnerability\.package|cwes\[\*\]|tier)\.(full_)?name$')
GH = [
    ('email', r'permissions\.emails$', ANY, 'F:not_email: a permission level ("read") under "emails"', False),
    ('email', r'ssh_url$', ANY, 'F:not_email: scp-style git remote (git@github.com:owner/repo.git)', True),
    ('email', r'committer\.email$', lambda u: u['value'] == 'noreply@github.com',
     'F:non_personal: GitHub web-flow committer (service address)', False),
    ('email', r'organization_billing_email$', ANY, 'F:non_personal: billing e-mail of an organization account',
     False),
    ('email', r'verification\.payload$', ANY, 'T:email (inside a signed commit object)', False),
    ('email', r'.', ANY, 'T:email of a user (commit author/committer, pusher, sender, owner)', False),
    ('person_name', r'(full_name)$', ANY, 'F:not_name: repository full name (owner/repo)', True),
    ('person_name', r'(author|committer|pusher|owner)\.name$', lambda u: u['value'] == 'GitHub',
     'F:non_personal: GitHub web-flow committer', True),
    ('person_name', r'(author|committer|pusher|repository\.owner)\.name$', ANY, 'T:person name field', False),
    ('person_name', GH_NOT_PERSON_NAME, ANY, 'F:not_name: name of a repository, app, package, label, team, plan, '
                                             'workflow or other object', True),
    ('person_name', r'^\$\.name$', ANY, 'F:not_name: repository name (status event)', True),
    ('person_name', r'\.(author|owner)$', ANY, None, False),  # containers: their name member is the unit
    ('national_id', r'license$', ANY, 'F:not_national_id: software licence', True),
]

RTB_REQ = [
    ('ip_address', r'^\$\.device\.ip$', lambda u: u['value'] == '0.0.0.0', 'F:no_data: 0.0.0.0 unspecified address',
     False),
    ('ip_address', r'^\$\.device\.ip$', lambda u: u['value'] == '111.222.333.444',
     'F:not_ip: not an IP address (octets above 255)', False),
    ('ip_address', r'^\$\.device\.ipv?6?$', ANY, 'T:ip address of an end user device', False),
    ('ip_address', r'^\$\.device\.ua$', ANY, 'F:not_ip: browser version in a user agent (Chrome/127.0.0.1)', True),
    ('geolocation', r'^\$\.device\.geo$', lambda u: isinstance(u['value'], dict) and u['value'].get('lat') == 123.0,
     'F:not_geo: impossible coordinates (latitude 123)', False),
    ('geolocation', r'^\$\.device\.geo$', lambda u: isinstance(u['value'], dict) and 'lat' in u['value'],
     'T:geolocation of an end user device', False),
    ('geolocation', r'.', ANY, None, False),
    ('postal_code', r'^\$\.device\.geo\.zip$', ANY, 'T:postal code of an end user device location', False),
    ('phone', r'^\$\.site\.mobile$', ANY, 'F:not_phone: OpenRTB flag (site optimised for mobile: 1)', False),
    ('device_id', r'^\$\.device\.ifa$', ANY, 'T:device advertising id (IFA)', False),
    ('person_name', r'(app|channel|renderers\[\*\])\.name$', ANY, 'F:not_name: name of an app, channel or renderer',
     True),
]

RTB_RESP = [
    ('device_id', r'\.adid$', ANY, 'F:not_device_id: OpenRTB bid "adid" (id of the ad creative, not an advertising id)',
     False),
]

# items found by reading (the hand sample and a pass over every free-text field) that no candidate rule produces:
# person names inside text. (record_id, path, category, verdict, where)
MANUAL = [
    (133, '$.Subject', 'person_name', 'T:family name of a customer in a case subject', 'free_text'),
    (133, '$.Description', 'person_name', 'T:person name in a case description', 'free_text'),
    (134, '$.Description', 'person_name', 'T:person name in a case description', 'free_text'),
    (202, '$.request_details.body', 'person_name', 'T:card holder name inside a forwarded request body (embedded JSON)',
     'free_text'),
    (259, '$.description', 'person_name', 'T:account holder name in a transfer description', 'free_text'),
    (313, '$.commit.commit.verification.payload', 'person_name', 'T:commit author name inside a signed commit object',
     'free_text'),
]

RULES = {'idp_logs': IDP, 'salesforce_crm': SF_CRM, 'salesforce_catalog': SF_CAT, 'stripe_fixtures': STRIPE,
         'github_webhooks': GH, 'openrtb_bid_requests': RTB_REQ, 'openrtb_bid_responses': RTB_RESP}

FREE_TEXT = {('idp_logs', r'\.data\.description$'), ('github_webhooks', r'verification\.payload$')}


def judge(u):
    if '<' in u['path']:
        return None, False  # a key judged as a value by the generator: not a unit the scanner reports
    for cat, rx, test, verdict, keep in RULES.get(u['source'], []):
        if cat != u['cat'] or not re.search(rx, u['pat']):
            continue
        try:
            ok = test(u)
        except (KeyError, TypeError, AttributeError):
            ok = False
        if ok:
            return verdict, keep
    return None, False


def main():
    findings = list(csv.DictReader(open(sys.argv[1])))
    cands = [json.loads(l) for l in open(sys.argv[2])]
    units = {}
    for f in findings:
        k = (int(f['record_id']), f['json_path'], f['category'])
        units[k] = {'rule': f['rule'], 'found': True}
    found_at = {}
    for f in findings:
        found_at.setdefault((int(f['record_id']), f['category']), []).append(f['json_path'])
    for c in cands:
        k = (c['record_id'], c['json_path'], c['category'])
        if k not in units:
            units[k] = {'rule': None, 'found': False}
    manual = {}
    for rid, path, cat, verdict, where in MANUAL:
        manual[(rid, path, cat)] = (verdict, where)
        units.setdefault((rid, path, cat), {'rule': None, 'found': False})
    rows, errors = [], []
    for (rid, path, cat), info in sorted(units.items()):
        d = DOCS[rid - 1]
        u = {'rid': rid, 'path': path, 'cat': cat, 'pat': re.sub(r'\[\d+\]', '[*]', path), 'source': d['source'],
             'sub': d['sub'], 'doc': d['doc'], 'found': info['found']}
        n = node(d['doc'], path) if '<' not in path else None
        u['value'] = n[2] if n else None
        verdict, keep = judge(u)
        mwhere = None
        if (rid, path, cat) in manual:
            verdict, mwhere = manual[(rid, path, cat)]
            keep = False
        if verdict is None:
            if info['found']:
                errors.append(f'no rule for finding {rid} {path} {cat}')
            continue
        covered = any(related(p, path) for p in found_at.get((rid, cat), []))
        kind, cls = verdict.split(':', 1)
        if kind == 'T':
            v = 'true_pii' if info['found'] else 'missed'
            if not info['found'] and covered:
                continue  # the run reports it at an ancestor or descendant: the finding there is the unit
        else:
            v = 'false_positive'
            if not info['found'] and not keep:
                continue
        where = mwhere or ('free_text' if any(s == d['source'] and re.search(rx, u['pat']) for s, rx in FREE_TEXT)
                           else 'structured')
        row = {'doc_index': rid - 1, 'record_id': rid, 'source': d['source'], 'json_path': path, 'category': cat,
               'verdict': v, 'rule': info['rule'], 'class': cls.strip(), 'where': where}
        if v == 'false_positive' and not info['found']:
            row['prejudged'] = True
        rows.append(row)
    if errors:
        sys.exit('\n'.join(errors))
    for r in rows:
        print(json.dumps(r, ensure_ascii=False))


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
"""Independent candidate generator for judging a real-world set: where could personal data be, whatever the scanner
says? It shares no code or tables with pii-auditd's detectors (regexes and key lists written here from the categories'
definitions, deliberately wider than the scanner's), so it finds what the scanner misses; every candidate is then
judged by hand, by group, with the set's rules (most candidates are not personal data).

usage: candidates.py DOCS.jsonl [FINDINGS.csv] > candidates.jsonl

One line per candidate unit: record_id, source, json_path (pii-auditd syntax), category, why (the generator rule),
covered (true when FINDINGS has a finding of that category at that path, an ancestor or a descendant), value.
The output holds VALUES: it is for the judge, never for CI logs.
"""
import csv
import ipaddress
import json
import re
import sys

IDENT = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')


def seg(k):
    if IDENT.match(k):
        return '.' + k
    return '[' + json.dumps(k, ensure_ascii=False) + ']'


def tokens(key):
    """Split a key into lower-case words (camelCase, snake_case, kebab, digits). Salesforce's custom and compound
    field suffixes (`Preferred_Name__c`, `Location__Latitude__s`) are dropped: the words before them decide."""
    key = re.sub(r'__[a-z]$', '', key)
    s = re.sub(r'([a-z0-9])([A-Z])', r'\1 \2', key)
    s = re.sub(r'([A-Z]+)([A-Z][a-z])', r'\1 \2', s)
    return [t for t in re.split(r'[^A-Za-z0-9]+', s.lower()) if t]


EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
PHONE = [
    re.compile(r'(?<![\w+])\+\d[\d ().-]{7,18}\d(?!\w)'),
    re.compile(r'(?<![\w.-])\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}(?![\w-])'),
    re.compile(r'(?<![\w.-])0\d{1,4}[ .-]\d{2,4}[ .-]\d{2,4}(?:[ .-]\d{2,4})?(?![\w-])'),
]
IPV4 = re.compile(r'(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.]*\d)')
IPV6 = re.compile(r'(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])')
SSN = re.compile(r'(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)')
MAC = re.compile(r'(?<![\w:-])[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}(?![\w:-])')
IBAN = re.compile(r'\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b')
DIGITS = re.compile(r'(?<![\w.])\d(?:[ -]?\d){12,18}(?![\w.])')
NAME_SHAPE = re.compile(r"^(?:(?:Dr|Mr|Mrs|Ms|Miss|Prof)\.? )?[A-Z][a-z'’-]+(?: [A-Z][a-z'’.-]*){1,3}$")
PERSON_STRING = re.compile(r"^[A-Z][\w'’.-]+(?: [A-Z][\w'’.-]+)+ <[^>]+@[^>]+>")

# key words -> category (the last word(s) of a key decide, as in most schemas; wider than the scanner's dictionary)
KEY_LAST = {
    'email': 'email', 'emails': 'email', 'mail': 'email', 'upn': 'email', 'principalname': 'email',
    'phone': 'phone', 'phones': 'phone', 'mobile': 'phone', 'telephone': 'phone', 'tel': 'phone', 'fax': 'phone',
    'msisdn': 'phone', 'cell': 'phone', 'phonenumber': 'phone',
    'ssn': 'national_id', 'passport': 'national_id', 'nino': 'national_id', 'sin': 'national_id',
    'license': 'national_id', 'licence': 'national_id', 'itin': 'national_id', 'cpf': 'national_id',
    'firstname': 'person_name', 'lastname': 'person_name', 'surname': 'person_name', 'given': 'person_name',
    'family': 'person_name', 'fullname': 'person_name', 'givenname': 'person_name', 'familyname': 'person_name',
    'displayname': 'person_name', 'middlename': 'person_name', 'name': 'person_name', 'display': 'person_name',
    'nickname': 'person_name', 'author': 'person_name', 'owner': 'person_name', 'holder': 'person_name',
    'ip': 'ip_address', 'ips': 'ip_address', 'ipaddress': 'ip_address', 'ipv4': 'ip_address', 'ipv6': 'ip_address',
    'addr': 'ip_address', 'clientip': 'ip_address', 'remoteip': 'ip_address', 'ipchain': 'ip_address',
    'address': 'street_address', 'street': 'street_address', 'line1': 'street_address', 'line2': 'street_address',
    'addressline': 'street_address', 'addressline1': 'street_address', 'addresses': 'street_address',
    'zip': 'postal_code', 'zipcode': 'postal_code', 'postalcode': 'postal_code', 'postcode': 'postal_code',
    'postal': 'postal_code',
    'dob': 'date_of_birth', 'birthdate': 'date_of_birth', 'birthday': 'date_of_birth', 'dateofbirth': 'date_of_birth',
    'birth': 'date_of_birth',
    'lat': 'geolocation', 'latitude': 'geolocation', 'lon': 'geolocation', 'lng': 'geolocation',
    'longitude': 'geolocation', 'geo': 'geolocation', 'geolocation': 'geolocation', 'coordinates': 'geolocation',
    'location': 'geolocation', 'coords': 'geolocation', 'geocoordinates': 'geolocation',
    'ifa': 'device_id', 'idfa': 'device_id', 'idfv': 'device_id', 'gaid': 'device_id', 'adid': 'device_id',
    'deviceid': 'device_id', 'udid': 'device_id', 'imei': 'device_id', 'androidid': 'device_id',
    'advertisingid': 'device_id', 'pushtoken': 'device_id', 'devicetoken': 'device_id', 'dpidsha1': 'device_id',
    'dpidmd5': 'device_id', 'didsha1': 'device_id', 'didmd5': 'device_id', 'macsha1': 'device_id',
    'mac': 'mac_address', 'macaddress': 'mac_address',
    'iban': 'iban', 'bankaccount': 'iban', 'accountnumber': 'iban',
    'card': 'credit_card', 'cardnumber': 'credit_card', 'pan': 'credit_card', 'cvc': 'credit_card', 'cvv': 'credit_card',
}
TYPE_KEYS = {'type', 'system', 'kind', 'label', 'name', 'key', 'field', 'use', 'code'}
VALUE_KEYS = {'value', 'val', 'data', 'text'}
TYPED = [(re.compile(r'ssn|social.?security|national|passport|driver|licen[cs]e|tax.?id|tin\b|nino|itin'), 'national_id'),
         (re.compile(r'e-?mail'), 'email'), (re.compile(r'phone|mobile|fax|sms|tel\b'), 'phone'),
         (re.compile(r'\bip\b|ip.?addr'), 'ip_address'), (re.compile(r'name'), 'person_name'),
         (re.compile(r'birth|dob'), 'date_of_birth'), (re.compile(r'address|street'), 'street_address'),
         (re.compile(r'zip|postal'), 'postal_code')]


def luhn(d):
    s, alt = 0, False
    for c in reversed(d):
        n = int(c)
        if alt:
            n *= 2
            if n > 9:
                n -= 9
        s += n
        alt = not alt
    return s % 10 == 0


def iban_ok(s):
    s = s.replace(' ', '')
    r = s[4:] + s[:4]
    try:
        return int(''.join(str(int(c, 36)) for c in r)) % 97 == 1
    except ValueError:
        return False


def key_category(key):
    t = tokens(key)
    if not t:
        return None
    for n in (3, 2, 1):
        if len(t) >= n:
            j = ''.join(t[-n:])
            if j in KEY_LAST:
                return KEY_LAST[j]
    j = ''.join(t)
    return KEY_LAST.get(j)


def has_data(v):
    if v is None or v is False or v is True:
        return False
    if isinstance(v, str):
        return v.strip() != ''
    if isinstance(v, (list, dict)):
        vals = v.values() if isinstance(v, dict) else v
        return any(has_data(x) for x in vals)
    return True


def value_candidates(s):
    out = []
    for m in EMAIL.finditer(s):
        out.append(('email', 're:email'))
        break
    for rx in PHONE:
        if any(len(re.sub(r'\D', '', m.group(0))) >= 7 for m in rx.finditer(s)):
            out.append(('phone', 're:phone'))
            break
    for m in IPV4.finditer(s):
        try:
            ipaddress.IPv4Address(m.group(0))
            out.append(('ip_address', 're:ipv4'))
            break
        except ValueError:
            pass
    for m in IPV6.finditer(s):
        g = m.group(0)
        if g.count(':') >= 2 and re.search(r'\d', g):
            try:
                ipaddress.IPv6Address(g)
                out.append(('ip_address', 're:ipv6'))
                break
            except ValueError:
                pass
    if SSN.search(s):
        out.append(('national_id', 're:ssn'))
    if MAC.search(s):
        out.append(('mac_address', 're:mac'))
    for m in IBAN.finditer(s):
        if iban_ok(m.group(0)):
            out.append(('iban', 're:iban_mod97'))
            break
    for m in DIGITS.finditer(s):
        d = re.sub(r'\D', '', m.group(0))
        if 13 <= len(d) <= 19 and luhn(d) and d[0] in '3456':
            out.append(('credit_card', 're:luhn'))
            break
    if PERSON_STRING.match(s):
        out.append(('person_name', 're:name_email_string'))
    return out


def walk(v, path, parent_key, holder_keys, out):
    """holder_keys: the keys of the objects above (nearest last)."""
    if isinstance(v, dict):
        keys = {k.lower(): k for k in v}
        # typed pairs {type|system|...: X, value|...: V}
        tk = [keys[k] for k in keys if k in TYPE_KEYS and isinstance(v[keys[k]], str)]
        vk = [keys[k] for k in keys if k in VALUE_KEYS]
        if tk and vk:
            label = ' '.join(str(v[k]).lower() for k in tk)
            for rx, cat in TYPED:
                if rx.search(label):
                    for k in vk:
                        if has_data(v[k]):
                            out.append((path + seg(k), cat, 'typed:' + label[:40], v[k]))
                    break
        # lat/lng pairs
        lat = [k for k in v if tokens(k)[-1:] in (['lat'], ['latitude'])]
        lng = [k for k in v if tokens(k)[-1:] in (['lng'], ['lon'], ['long'], ['longitude'])]
        if lat and lng and has_data(v[lat[0]]) and has_data(v[lng[0]]):
            out.append((path, 'geolocation', 'pair:lat_lng', {lat[0]: v[lat[0]], lng[0]: v[lng[0]]}))
        for k, x in v.items():
            p = path + seg(k)
            for rx_cat, why in value_candidates(k):
                out.append((path + '.<key>', rx_cat, 'key-as-value:' + why, k))
            cat = key_category(k)
            if cat and cat != 'geolocation' and has_data(x):
                out.append((p, cat, 'key:' + '_'.join(tokens(k)), x))
            elif cat == 'geolocation' and has_data(x) and tokens(k)[-1] not in ('lat', 'latitude', 'lon', 'lng',
                                                                                 'long', 'longitude'):
                out.append((p, cat, 'key:' + '_'.join(tokens(k)), x))
            walk(x, p, k, holder_keys + [k], out)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            walk(x, f'{path}[{i}]', parent_key, holder_keys, out)
    elif isinstance(v, str):
        for cat, why in value_candidates(v):
            out.append((path, cat, why, v))
        if parent_key is not None and NAME_SHAPE.match(v) and key_category(parent_key) != 'person_name':
            out.append((path, 'person_name', 'shape:capitalized_words', v))
    elif isinstance(v, (int, float)) and not isinstance(v, bool):
        s = str(v)
        if re.fullmatch(r'\d{13,19}', s) and luhn(s) and s[0] in '3456':
            out.append((path, 'credit_card', 're:luhn_number', v))
        if re.fullmatch(r'\d{9}', s) and parent_key and key_category(parent_key) == 'national_id':
            out.append((path, 'national_id', 're:bare9', v))


def related(a, b):
    if a == b:
        return True
    if len(a) > len(b):
        a, b = b, a
    return b.startswith(a) and b[len(a)] in '.['


def main():
    docs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    found = {}
    if len(sys.argv) > 2:
        for r in csv.DictReader(open(sys.argv[2])):
            found.setdefault((int(r['record_id']), r['category']), []).append(r['json_path'])
    for i, d in enumerate(docs):
        out = []
        walk(d['doc'], '$', None, [], out)
        seen = set()
        for p, cat, why, val in out:
            if (p, cat) in seen:
                continue
            seen.add((p, cat))
            cov = any(related(p, q) for q in found.get((i + 1, cat), []))
            print(json.dumps({'record_id': i + 1, 'source': d.get('source'), 'json_path': p, 'category': cat,
                              'why': why, 'covered': cov, 'value': val}, ensure_ascii=False))


if __name__ == '__main__':
    main()

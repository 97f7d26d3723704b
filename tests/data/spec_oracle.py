#!/usr/bin/env python3
"""Reference scanner for the demo / bench ground truth: a slow, independent reading of the detection spec
(key dictionary with whole-token matching, value patterns with validators), written to cross-check
tests/data/demo-expected.tsv and bench truth tables. It is NOT pii-auditd and shares no code with it; where the two
disagree, read the spec (docs) before trusting either.

  psql -X -At -c "SELECT jsonb_build_array('public.attribution_events', id::text, raw_payload)::text
                    FROM public.attribution_events" | python3 tests/data/spec_oracle.py > found.tsv

stdin: one JSON array [table, record_id, document] per line. stdout: table, record_id, json_path, category (TSV),
the format of demo-expected.tsv. --full uses the complete dictionary and pair rule of docs/detection.md instead of
the short list. --sloppy also lists on stderr the near-misses a looser detector could flag (digit groups, dotted
quads, case-insensitive IBAN shapes...), to keep the clean rows clean.
"""
import ipaddress, json, re, sys

DICT = {
    'email': 'email', 'emailaddress': 'email',
    'phone': 'phone', 'phonenumber': 'phone', 'mobile': 'phone',
    'ssn': 'national_id', 'socialsecuritynumber': 'national_id',
    'firstname': 'person_name', 'lastname': 'person_name', 'fullname': 'person_name', 'surname': 'person_name',
    'ip': 'ip_address', 'ipaddress': 'ip_address', 'clientip': 'ip_address',
    'address': 'street_address', 'streetaddress': 'street_address',
    'dob': 'date_of_birth', 'dateofbirth': 'date_of_birth', 'birthdate': 'date_of_birth',
    'creditcard': 'credit_card', 'cardnumber': 'credit_card',
    'iban': 'iban', 'idfa': 'device_id', 'gaid': 'device_id', 'macaddress': 'mac_address',
    'zip': 'postal_code', 'zipcode': 'postal_code', 'postalcode': 'postal_code',
}
# --full: the complete default dictionary of docs/detection.md (175 entries, 25 stop entries, whole-key-only
# entries, fallbacks without trailing digit tokens and without a plural), instead of the short list above.
DICT_FULL = {
    'cardno': 'credit_card', 'cardnumber': 'credit_card', 'cardpan': 'credit_card', 'ccnum': 'credit_card',
    'ccnumber': 'credit_card', 'creditcard': 'credit_card', 'creditcardno': 'credit_card',
    'creditcardnumber': 'credit_card', 'cvc': 'credit_card', 'cvc2': 'credit_card', 'cvv': 'credit_card',
    'cvv2': 'credit_card', 'debitcard': 'credit_card', 'pan': 'credit_card', 'primaryaccountnumber': 'credit_card',
    'bday': 'date_of_birth', 'birthdate': 'date_of_birth', 'birthday': 'date_of_birth',
    'dateofbirth': 'date_of_birth', 'dob': 'date_of_birth', 'aaid': 'device_id', 'adid': 'device_id',
    'advertisingid': 'device_id', 'androidid': 'device_id', 'deviceadvertisingid': 'device_id',
    'gaid': 'device_id', 'idfa': 'device_id', 'idfv': 'device_id', 'imei': 'device_id', 'udid': 'device_id',
    'email': 'email', 'emailaddr': 'email', 'emailaddress': 'email', 'mailaddress': 'email',
    'coordinates': 'geolocation', 'geocoordinates': 'geolocation', 'geolocation': 'geolocation',
    'geopoint': 'geolocation', 'gpscoordinates': 'geolocation', 'gpslocation': 'geolocation',
    'latlng': 'geolocation', 'latlon': 'geolocation', 'latlong': 'geolocation', 'bankaccount': 'iban',
    'bankaccountnumber': 'iban', 'bban': 'iban', 'iban': 'iban', 'ibannumber': 'iban',
    'clientaddress': 'ip_address', 'clientip': 'ip_address', 'forwardedfor': 'ip_address', 'ip': 'ip_address',
    'ipaddr': 'ip_address', 'ipaddress': 'ip_address', 'ipv4': 'ip_address', 'ipv4address': 'ip_address',
    'ipv6': 'ip_address', 'ipv6address': 'ip_address', 'remoteaddr': 'ip_address', 'remoteaddress': 'ip_address',
    'remoteip': 'ip_address', 'xforwardedfor': 'ip_address', 'bssid': 'mac_address',
    'hardwareaddress': 'mac_address', 'hwaddr': 'mac_address', 'macaddr': 'mac_address',
    'macaddress': 'mac_address', 'aadhaar': 'national_id', 'aadhaarnumber': 'national_id', 'bsn': 'national_id',
    'cpf': 'national_id', 'curp': 'national_id', 'dni': 'national_id', 'driverlicence': 'national_id',
    'driverlicense': 'national_id', 'driverlicensenumber': 'national_id', 'driverslicence': 'national_id',
    'driverslicense': 'national_id', 'driverslicensenumber': 'national_id', 'drivinglicence': 'national_id',
    'drivinglicencenumber': 'national_id', 'drivinglicense': 'national_id', 'drivinglicensenumber': 'national_id',
    'idcardnumber': 'national_id', 'identitycardnumber': 'national_id', 'itin': 'national_id',
    'nationalid': 'national_id', 'nationalidentificationnumber': 'national_id',
    'nationalidentitynumber': 'national_id', 'nationalidnumber': 'national_id',
    'nationalinsurancenumber': 'national_id', 'nie': 'national_id', 'nif': 'national_id', 'nin': 'national_id',
    'nino': 'national_id', 'passport': 'national_id', 'passportno': 'national_id', 'passportnumber': 'national_id',
    'personnummer': 'national_id', 'pesel': 'national_id', 'sin': 'national_id',
    'socialinsurancenumber': 'national_id', 'socialsecurity': 'national_id', 'socialsecurityno': 'national_id',
    'socialsecuritynumber': 'national_id', 'ssn': 'national_id', 'taxid': 'national_id',
    'taxidentificationnumber': 'national_id', 'taxidnumber': 'national_id', 'taxpayerid': 'national_id',
    'tin': 'national_id', 'accountholdername': 'person_name', 'billingname': 'person_name',
    'birthname': 'person_name', 'cardholdername': 'person_name', 'contactname': 'person_name',
    'customername': 'person_name', 'employeename': 'person_name', 'familyname': 'person_name',
    'firstname': 'person_name', 'fname': 'person_name', 'forename': 'person_name', 'fullname': 'person_name',
    'givenname': 'person_name', 'lastname': 'person_name', 'lname': 'person_name', 'maidenname': 'person_name',
    'middlename': 'person_name', 'nameoncard': 'person_name', 'patientname': 'person_name',
    'personname': 'person_name', 'recipientname': 'person_name', 'shippingname': 'person_name',
    'surname': 'person_name', 'cellno': 'phone', 'cellnumber': 'phone', 'cellphone': 'phone',
    'contactnumber': 'phone', 'fax': 'phone', 'faxnumber': 'phone', 'landline': 'phone', 'mobile': 'phone',
    'mobileno': 'phone', 'mobilenumber': 'phone', 'mobilephone': 'phone', 'msisdn': 'phone', 'phone': 'phone',
    'phoneno': 'phone', 'phonenum': 'phone', 'phonenumber': 'phone', 'tel': 'phone', 'telephone': 'phone',
    'telephonenumber': 'phone', 'telno': 'phone', 'telnumber': 'phone', 'plz': 'postal_code',
    'postalcode': 'postal_code', 'postcode': 'postal_code', 'zip': 'postal_code', 'zipcode': 'postal_code',
    'address': 'street_address', 'addressline': 'street_address', 'addressline1': 'street_address',
    'addressline2': 'street_address', 'billingaddress': 'street_address', 'deliveryaddress': 'street_address',
    'homeaddress': 'street_address', 'mailingaddress': 'street_address', 'postaladdress': 'street_address',
    'residentialaddress': 'street_address', 'serviceaddress': 'street_address',
    'shippingaddress': 'street_address', 'street': 'street_address', 'streetaddress': 'street_address',
    'streetname': 'street_address',
}
STOP = {
    'webaddress', 'walletaddress', 'contractaddress', 'tokenaddress', 'bitcoinaddress', 'btcaddress', 'ethaddress',
    'ethereumaddress', 'cryptoaddress', 'depositaddress', 'serveraddress', 'bindaddress', 'listenaddress',
    'hostaddress', 'localaddress', 'nodeaddress', 'socketaddress', 'networkaddress', 'broadcastaddress',
    'multicastaddress', 'gatewayaddress', 'proxyaddress', 'memoryaddress', 'baseaddress', 'deviceaddress',
}
WHOLE_ONLY = {
    'nin', 'sin', 'pan',
}

GEO = [({'lat', 'latitude'}, {'lng', 'lon', 'long', 'longitude'})]

def tokens(key):
    out = []
    for p in re.split(r'[^A-Za-z0-9]+', key):
        out += [s.lower() for s in re.findall(r'[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+', p)]
    return out

FULL = False

def _lookup(t):
    if not FULL:
        for i in range(len(t)):
            c = DICT.get(''.join(t[i:]))
            if c:
                return c
        return None
    for i in range(len(t)):  # longest trailing run first; a stop entry ends the search
        j = ''.join(t[i:])
        if j in STOP:
            return 'STOP'
        c = DICT_FULL.get(j)
        if c and (i == 0 or j not in WHOLE_ONLY):
            return c
    return None

def key_category(key):
    t = tokens(key)
    c = _lookup(t)
    if FULL and c is None:
        u = list(t)
        while u and u[-1].isdigit():
            u.pop()
        if u and u != t:
            c = _lookup(u)
        if c is None and u and len(u[-1]) > 3 and u[-1].endswith('s'):
            w = u[-1]
            for stem in ([w[:-3] + 'y'] if w.endswith('ies') else []) + ([w[:-2]] if w.endswith('es') else []) + [w[:-1]]:
                c = _lookup(u[:-1] + [stem])
                if c:
                    break
    return None if c == 'STOP' else c

def carries(v):
    if isinstance(v, bool) or v is None:
        return False
    if isinstance(v, (int, float)):
        return True
    return len(v) > 0

def protected(v):
    if not isinstance(v, str):
        return False
    if re.fullmatch(r'[0-9a-fA-F]+', v) and len(v) in (32, 40, 64, 128):
        return True
    if re.fullmatch(r'gAAAAA[A-Za-z0-9_=-]{50,}', v):
        return True
    return '**' in v

def luhn(d):
    s = 0
    for i, ch in enumerate(reversed(d)):
        x = int(ch)
        if i % 2:
            x *= 2
            if x > 9: x -= 9
        s += x
    return s % 10 == 0

def card_prefix(d):
    n2, n3, n4 = int(d[:2]), int(d[:3]), int(d[:4])
    L = len(d)
    return ((d[0] == '4' and L in (13, 16, 19)) or (51 <= n2 <= 55 and L == 16) or (2221 <= n4 <= 2720 and L == 16)
            or (n2 in (34, 37) and L == 15) or ((d.startswith('6011') or d.startswith('65') or 644 <= n3 <= 649) and L in (16, 19))
            or (n2 == 35 and L in (16, 19)) or (n2 in (36, 38, 30) and L in (14, 16)) or (n2 == 62 and 16 <= L <= 19))

IBAN_LEN = {'DE': 22, 'GB': 22, 'NL': 18, 'FR': 27, 'ES': 24, 'IT': 27, 'BE': 16, 'AT': 20, 'CH': 21, 'IE': 22,
            'PL': 28, 'PT': 25, 'SE': 24, 'DK': 18, 'FI': 18, 'NO': 15, 'AD': 24, 'AE': 23, 'BA': 20, 'EE': 20,
            'LU': 20, 'CZ': 24, 'HU': 28, 'GR': 27, 'RO': 24, 'BG': 22, 'HR': 21, 'SI': 19, 'SK': 24, 'LT': 20,
            'LV': 21, 'MT': 31, 'CY': 28, 'IS': 26, 'LI': 21, 'MC': 27, 'SM': 27, 'TR': 26, 'SA': 24, 'QA': 29}

def mod97(s):
    s = s[4:] + s[:4]
    return int(''.join(str(int(c, 36)) for c in s)) % 97 == 1

def values(s):
    """Categories found in one string by the value rules of the spec."""
    cats = set()
    if re.search(r'[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}', s):
        cats.add('email')
    for m in re.finditer(r'(?<![\w+])\+[1-9]\d{7,14}(?!\w)', s):
        cats.add('phone')
    for m in re.finditer(r'(?<![\w.+-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\d{2,4}[ .-])\d{2,4}(?:[ .-]\d{2,4}){1,3}(?![\w.-])', s):
        if 10 <= len(re.sub(r'\D', '', m.group())) <= 15 and not re.fullmatch(r'\d{3}-\d{2}-\d{4}', m.group()):
            cats.add('phone')
    for m in re.finditer(r'(?<![\w-])(\d{3})-(\d{2})-(\d{4})(?![\w-])', s):
        a, g, n = m.groups()
        if a not in ('000', '666') and a[0] != '9' and g != '00' and n != '0000':
            cats.add('national_id')
    for m in re.finditer(r'(?<![\w-])\d(?:[ -]?\d){11,18}(?![\w-])', s):
        d = re.sub(r'\D', '', m.group())
        if luhn(d) and card_prefix(d):
            cats.add('credit_card')
    for m in re.finditer(r'\b([A-Z]{2})(\d{2})([A-Z0-9]{11,30})\b', s):
        v = m.group()
        if IBAN_LEN.get(m.group(1)) == len(v) and mod97(v):
            cats.add('iban')
    for m in re.finditer(r'(?<![\d.])(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?![\d.])', s):
        if all(int(x) <= 255 for x in m.groups()):
            cats.add('ip_address')
    for m in re.finditer(r'(?<![\w:])[0-9A-Fa-f:]{2,39}(?![\w:])', s):
        if m.group().count(':') >= 2:
            try:
                ipaddress.IPv6Address(m.group())
                if not re.fullmatch(r'[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}', m.group()):
                    cats.add('ip_address')
            except ValueError:
                pass
    if re.search(r'(?<![\w:-])[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}(?![\w:-])', s):
        cats.add('mac_address')
    return cats

def sloppy(s):
    """Things a looser detector might flag: reported for clean-data review only."""
    hits = []
    if '@' in s: hits.append('at-sign')
    for m in re.finditer(r'\d{12,19}', s):
        d = m.group()
        for L in range(12, len(d) + 1):
            for i in range(0, len(d) - L + 1):
                if luhn(d[i:i+L]) and card_prefix(d[i:i+L]): hits.append('card-in-digit-run:' + d); break
    if re.search(r'\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}', s) and not re.search(r'\d+\.\d+\.\d+\.\d+\.', s):
        for m in re.finditer(r'(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})', s):
            if all(int(x) <= 255 for x in m.groups()): hits.append('dotted-quad:' + m.group())
    for m in re.finditer(r'\d[\d ().-]{8,}\d', s):
        if len(re.sub(r'\D', '', m.group())) >= 9 and re.search(r'[ ().-]', m.group()):
            hits.append('digit-groups:' + m.group())
    if re.search(r'\d{3}-\d{2}-\d{4}', s): hits.append('ssn-shape')
    for m in re.finditer(r'(?i)[a-z]{2}\d{2}[a-z0-9]{11,30}', s):
        v = m.group().upper()
        for L in range(15, len(v) + 1):
            if IBAN_LEN.get(v[:2]) == L and mod97(v[:L]): hits.append('iban-ci:' + v[:L])
    if re.search(r'(?i)\+\d{8,}', s): hits.append('plus-digits')
    if re.search(r'[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}', s): hits.append('mac-shape')
    return hits

def seg(k, redact):
    if redact:
        return '.<' + redact + '>'
    if re.fullmatch(r'[A-Za-z_][A-Za-z0-9_]*', k):
        return '.' + k
    return '[' + json.dumps(k, ensure_ascii=False) + ']'

def scan(doc, want_sloppy=False):
    found, slop = set(), []
    def str_(s, path):
        for c in values(s):
            found.add((path, c))
        if want_sloppy:
            slop.extend((path, h) for h in sloppy(s))
    def walk(v, path):
        if isinstance(v, dict):
            if FULL:  # last token lat/latitude + last token lng/lon/long/longitude, both carrying data
                last = {(tokens(k) or [''])[-1] for k, x in v.items() if carries(x)}
            else:
                last = {''.join(tokens(k)) for k in v}
            for lat, lng in GEO:
                if last & lat and last & lng:
                    found.add((path, 'geolocation'))
            for k, x in v.items():
                kc = values(k)
                p = path + seg(k, sorted(kc)[0] if kc else None)
                for c in kc:
                    found.add((p, c))
                if want_sloppy and not kc:
                    slop.extend((p, 'KEY ' + h) for h in sloppy(k))
                c = key_category(k)
                if c and carries(x) and not protected(x):
                    found.add((p, c))
                walk(x, p)
        elif isinstance(v, list):
            for i, x in enumerate(v):
                walk(x, f'{path}[{i}]')
        elif isinstance(v, str):
            str_(v, path)
        elif isinstance(v, int) and not isinstance(v, bool):
            if FULL and 'credit_card' in values(str(v)):  # digit-only numbers are checked for cards
                found.add((path, 'credit_card'))
            if want_sloppy:
                slop.extend((path, 'NUM ' + h) for h in sloppy(str(v)))
    walk(doc, '$')
    return found, slop

if __name__ == '__main__':
    want = '--sloppy' in sys.argv
    FULL = '--full' in sys.argv
    for line in sys.stdin:
        t, rid, doc = json.loads(line)
        if doc is None:
            continue
        found, slop = scan(doc, want)
        for p, c in sorted(found):
            print(f'{t}\t{rid}\t{p}\t{c}')
        for p, h in slop:
            print(f'SLOPPY {t}\t{rid}\t{p}\t{h}', file=sys.stderr)

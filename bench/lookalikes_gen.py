#!/usr/bin/env python3
"""lookalikes_gen: a deterministic corpus of ad-tech and e-commerce event documents with NO personal data and many
values that look like it (bench/README.md, "PII-free look-alikes", says what each class is and why it is there).

usage: lookalikes_gen.py [--count N] [--seed S] [OUT]     (default 20000 documents, seed 20261207, stdout)

One JSON line per document, in the layout of the real-world sets: {"source": "lookalike_gen", "sub": <event type>,
"kind": "c", "origin": "bench/lookalikes_gen.py#seed=S,n=I", "doc": {...}}. Python standard library only; the same
count and seed give the same bytes on any machine (random.Random(seed), no clock, no hash order).

Nothing here is personal data: no e-mail address, phone number, person's name, street address of a person, birth
date, IP address of a client, device or advertising id, or coordinates of a person. Identifiers are of orders,
products, ads, campaigns, events and machines (and random reference codes: confirmation numbers,
booking references, voucher and tracking codes); places are shops, warehouses and venues; placeholders are empty.
"""
import argparse
import hashlib
import json
import sys
import random

ISSUERS = [  # (prefix, lengths): card issuer ranges the scanner's Luhn rule knows
    ('4', (13, 16, 19)), ('51', (16,)), ('53', (16,)), ('55', (16,)), ('2221', (16,)), ('2720', (16,)),
    ('34', (15,)), ('37', (15,)), ('6011', (16, 19)), ('65', (16, 17, 18, 19)), ('3530', (16,)), ('3589', (17,)),
    ('36', (14,)), ('62', (16, 17, 18, 19)),
]

ADJ = ['Classic', 'Everyday', 'Organic', 'Premium', 'Lightweight', 'Vintage', 'Essential', 'Recycled', 'Heritage',
       'Alpine', 'Coastal', 'Urban', 'Merino', 'Waxed', 'Quilted', 'Ribbed', 'Relaxed', 'Slim', 'Oversized', 'Trail']
NOUN = ['Cotton Tee', 'Hoodie', 'Crewneck', 'Rain Shell', 'Chino', 'Beanie', 'Tote Bag', 'Water Bottle', 'Trail Runner',
        'Backpack 28L', 'Down Vest', 'Wool Socks', 'Cap', 'Flannel Shirt', 'Puffer Jacket', 'Yoga Mat', 'Desk Lamp',
        'Espresso Cups (Set of 2)', 'Cast Iron Skillet', 'Phone Case', 'USB-C Cable 2m', 'Wireless Earbuds']
BRAND = ['Northwind Outfitters', 'Blue Harbor', 'Cedar & Pine', 'Summit Supply Co.', 'Acme Goods', 'Fjordline',
         'Lumen Home', 'Oakridge Kitchen', 'Paper Crane Studio', 'Tidewater', 'Ironbark', 'Nimbus Audio']
SHOP = ['acme-outdoor', 'blue-harbor-goods', 'cedar-and-pine', 'lumen-home-store', 'tidewater-supply', 'nimbus-audio']
COLOR = ['Black', 'Navy', 'Olive', 'Sand', 'Heather Grey', 'Rust', 'White', 'Forest']
SIZE = ['XS', 'S', 'M', 'L', 'XL', 'XXL', 'One Size']
CURRENCY = [('USD', 'US'), ('EUR', 'DE'), ('GBP', 'GB'), ('CAD', 'CA'), ('JPY', 'JP'), ('AUD', 'AU'), ('EUR', 'FR')]
REGION = {'US': ['US-CA', 'US-NY', 'US-TX', 'US-WA', 'US-IL'], 'DE': ['DE-BY', 'DE-BE', 'DE-HH'],
          'GB': ['GB-ENG', 'GB-SCT'], 'CA': ['CA-ON', 'CA-BC'], 'JP': ['JP-13', 'JP-27'], 'AU': ['AU-NSW', 'AU-VIC'],
          'FR': ['FR-IDF', 'FR-ARA']}
CITY = {'US': ['Portland', 'Austin', 'Denver', 'Chicago', 'Seattle'], 'DE': ['Munich', 'Berlin', 'Hamburg'],
        'GB': ['Leeds', 'Glasgow'], 'CA': ['Toronto', 'Vancouver'], 'JP': ['Tokyo', 'Osaka'],
        'AU': ['Sydney', 'Melbourne'], 'FR': ['Paris', 'Lyon']}
VENUE = ['Maple Street Market', 'Harbor Point Outlet', 'Riverside Flagship', 'Union Square Pop-up', 'Airport T2 Kiosk',
         'Old Town Showroom', 'Lakeside Mall Unit 14']
FACILITY = ['Reno Fulfillment Center 3', 'Memphis DC', 'Leipzig Hub', 'Tilbury Cross-Dock', 'Osaka Bay Warehouse',
            'Chino Returns Center']
STREET = ['Industrial Pkwy', 'Commerce Dr', 'Logistics Way', 'Harbor Rd', 'Depot St', 'Freight Ave']
PLACEMENT = ['feed', 'stories', 'reels', 'search', 'display_top', 'rewarded_video', 'interstitial', 'native_in_article']
NETWORK = ['meta', 'google_ads', 'tiktok', 'snap', 'pinterest', 'the_trade_desk', 'criteo', 'amazon_dsp']
OS = [('iOS', ['17.2.1', '16.7.4', '17.4', '15.8.2']), ('Android', ['14', '13', '12.1', '11']),
      ('Windows', ['10.0.19045', '10.0.22631', '11']), ('macOS', ['14.2.1', '13.6.3', '10.15.7'])]
BROWSER = [('Chrome', ['120.0.6099.109', '121.0.6167.85', '120.0.0.0', '119.0.6045.199']),
           ('Safari', ['17.2', '16.6']), ('Firefox', ['121.0', '115.6.0']), ('Edge', ['120.0.2210.91'])]
MODEL = ['iPhone15,2', 'iPhone14,5', 'SM-S918B', 'Pixel 8 Pro', 'iPad13,18', 'MacBookPro18,3', 'Desktop']
RESOURCE = ['module.checkout.aws_lambda_function.order_webhook', 'aws_sqs_queue.events_dlq',
            'module.cdn.aws_cloudfront_distribution.storefront', 'google_bigquery_table.ad_events[0]',
            'module.search.aws_opensearch_domain.catalog', 'kubernetes_deployment.pricing["eu"]']


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.rc = random.Random(seed + 1)  # the reference codes: their own stream, so the other fields stay as they were

    def ref_code(self):
        """A machine-made reference (confirmation number, booking reference, voucher code): 8 to 10 upper-case
        letters and digits, as random as they come; 1 in about 2,400 of the 10-character ones has a PAN's shape."""
        return ''.join(self.rc.choice('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789') for _ in range(self.rc.randint(8, 10)))

    # --- identifiers -------------------------------------------------------------------------------------------
    def digits(self, n, first='123456789'):
        r = self.r
        return r.choice(first) + ''.join(r.choice('0123456789') for _ in range(n - 1))

    def luhn_complete(self, body):
        s, alt = 0, True
        for c in reversed(body):
            d = int(c)
            if alt:
                d *= 2
                if d > 9:
                    d -= 9
            s += d
            alt = not alt
        return body + str((10 - s % 10) % 10)

    def card_like_id(self):
        """13-19 digits with a card issuer prefix and a valid Luhn check digit: an id that a bare card rule takes
        for a card number."""
        prefix, lengths = self.r.choice(ISSUERS)
        n = self.r.choice(lengths)
        body = prefix + ''.join(self.r.choice('0123456789') for _ in range(n - len(prefix) - 1))
        return self.luhn_complete(body)

    def long_id(self, n=None):
        """A 13-19 digit id: one in eight passes Luhn with an issuer prefix by construction (card_like_id); the
        rest are random digits, of which about one in ten passes Luhn anyway (and some of those have a prefix)."""
        if self.r.random() < 0.125:
            return self.card_like_id()
        return self.digits(n or self.r.randint(13, 19))

    def id_value(self, n=None):
        """As a JSON number or a JSON string, half and half."""
        v = self.long_id(n)
        return int(v) if self.r.random() < 0.5 else v

    def uuid(self):
        h = '%032x' % self.r.getrandbits(128)
        return f'{h[:8]}-{h[8:12]}-4{h[13:16]}-{"89ab"[self.r.randrange(4)]}{h[17:20]}-{h[20:]}'

    def hexstr(self, n):
        return ''.join(self.r.choice('0123456789abcdef') for _ in range(n))

    def sha256(self):
        return hashlib.sha256(str(self.r.getrandbits(64)).encode()).hexdigest()

    def b62(self, n):
        abc = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
        return ''.join(self.r.choice(abc) for _ in range(n))

    def ts_ms(self):
        return 1700000000000 + self.r.randrange(40_000_000_000)

    def iso(self, ms=None):
        ms = ms if ms is not None else self.ts_ms()
        s = ms // 1000
        days, rem = divmod(s, 86400)
        # civil date from days since 1970-01-01 (Howard Hinnant's algorithm): no clock, no time zone
        z = days + 719468
        era, doe = divmod(z, 146097)
        yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
        doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
        mp = (5 * doy + 2) // 153
        d = doy - (153 * mp + 2) // 5 + 1
        m = mp + 3 if mp < 10 else mp - 9
        y = yoe + era * 400 + (m <= 2)
        return f'{y:04d}-{m:02d}-{d:02d}T{rem // 3600:02d}:{rem % 3600 // 60:02d}:{rem % 60:02d}.{ms % 1000:03d}Z'

    # --- strings ---------------------------------------------------------------------------------------------
    def pick(self, xs):
        return self.r.choice(xs)

    def price(self):
        return round(self.r.choice([4.99, 9.5, 12, 19.99, 24, 38.5, 49, 64.95, 89, 129, 249.99]) *
                     self.r.choice([1, 1, 1, 2, 3]), 2)

    def sku(self):
        return f'{self.pick(["HX", "NW", "BH", "CP", "SS", "LM"])}-{self.digits(4)}-' \
               f'{self.pick(["BLK", "NVY", "OLV", "SND", "GRY"])}-{self.pick(SIZE).replace(" ", "")}'

    def ean13(self):
        body = self.pick(['40', '50', '76', '87', '00', '03', '45', '49']) + ''.join(
            self.r.choice('0123456789') for _ in range(10))
        s = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(body))
        return body + str((10 - s % 10) % 10)

    def title(self):
        return f'{self.pick(ADJ)} {self.pick(NOUN)}'

    def user_agent(self, os_pick=None):
        os_name, vers = os_pick[:2] if os_pick else self.pick(OS)
        b, bvers = self.pick(BROWSER[:1] if os_name == 'Android' else BROWSER)
        ov = self.pick(vers) if not os_pick else os_pick[2]
        bv = self.pick(bvers)
        if os_name == 'iOS':
            return (f'Mozilla/5.0 (iPhone; CPU iPhone OS {ov.replace(".", "_")} like Mac OS X) AppleWebKit/605.1.15 '
                    f'(KHTML, like Gecko) Version/{ov} Mobile/15E148 Safari/604.1')
        if os_name == 'Android':
            return (f'Mozilla/5.0 (Linux; Android {ov}; {self.pick(["SM-S918B", "Pixel 8 Pro", "K"])}) AppleWebKit/537.36 (KHTML, like Gecko) '
                    f'{b}/{bv} Mobile Safari/537.36')
        if os_name == 'Windows':
            return (f'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) {b}/{bv} '
                    f'Safari/537.36')
        return (f'Mozilla/5.0 (Macintosh; Intel Mac OS X {ov.replace(".", "_")}) AppleWebKit/537.36 '
                f'(KHTML, like Gecko) {b}/{bv} Safari/537.36')

    def app_version(self):
        """Four-part versions, each part within 0-255 half of the time: they read as IPv4 addresses."""
        if self.r.random() < 0.5:
            return '.'.join(str(self.r.randint(0, 255)) for _ in range(4))
        return f'{self.r.randint(1, 12)}.{self.r.randint(0, 40)}.{self.r.randint(0, 9)}.{self.r.randint(1000, 9999)}'

    def postal_like(self):
        return self.digits(5, '0123456789')

    # --- shared blocks -------------------------------------------------------------------------------------------
    def empty_contact(self):
        """Contact fields present but empty: what a guest checkout or a consent-less event carries."""
        r = self.r
        out = {}
        for k, vals in (('email', ['', None, 'N/A']), ('phone', [None, '']), ('first_name', ['', None]),
                        ('last_name', [None]), ('ip', ['0.0.0.0', '', None, 'unknown']),
                        ('birthday', [None]), ('name', [''])):
            if r.random() < 0.6:
                out[k] = r.choice(vals)
        if r.random() < 0.4:
            out['address'] = {'line1': None, 'line2': None, 'city': None, 'postal_code': None, 'country': None}
        return out

    def device_block(self):
        os_name, vers = self.pick(OS)
        ov = self.pick(vers)
        d = {'type': self.pick(['mobile', 'desktop', 'tablet', 'phone']), 'os': os_name,
             'os_version': f'{os_name} {ov}', 'model': self.pick(MODEL),
             'user_agent': self.user_agent((os_name, vers, ov)), 'language': self.pick(['en-US', 'de-DE', 'fr-FR', 'ja-JP']),
             'screen': {'w': self.pick([390, 412, 1440, 1920]), 'h': self.pick([844, 915, 900, 1080])},
             'is_mobile': self.r.random() < 0.6}
        if self.r.random() < 0.3:
            # limit-ad-tracking: the advertising ids are zeroed, the IP withheld
            d['idfa'] = '00000000-0000-0000-0000-000000000000'
            d['ip'] = '0.0.0.0'
            d['lmt'] = 1
        return d

    def geo_block(self, country):
        g = {'country': country, 'region': self.pick(REGION[country]), 'city': self.pick(CITY[country]),
             'timezone': self.pick(['America/Los_Angeles', 'Europe/Berlin', 'Asia/Tokyo', 'Europe/London']),
             'dma_code': self.digits(3), 'fips_code': self.postal_like()}
        if self.r.random() < 0.2:
            g['lat'], g['lng'] = 0, 0  # "0,0": no location resolved
        return g

    def facility(self, kind):
        country = self.pick(list(CITY))
        f = {'id': self.id_value(13), 'name': self.pick(FACILITY if kind == 'warehouse' else VENUE),
             'code': self.pick(['RNO3', 'MEM1', 'LEJ2', 'TIL1', 'KIX4', 'CNO2']) + '-' + self.digits(2),
             'city': self.pick(CITY[country]), 'region': self.pick(REGION[country]), 'country': country,
             'store_number': self.postal_like(), 'timezone': self.pick(['America/Chicago', 'Europe/Berlin'])}
        if self.r.random() < 0.5:
            f['address'] = {'line1': f'{self.r.randint(100, 9999)} {self.pick(STREET)}', 'city': f['city'],
                            'region': f['region'], 'postal_code': self.postal_like(), 'country': country}
        if self.r.random() < 0.5:
            f['location'] = {'lat': round(self.r.uniform(-45, 60), 6), 'lng': round(self.r.uniform(-120, 140), 6)}
        return f

    # --- event types -------------------------------------------------------------------------------------------
    def product_update(self):
        pid = self.long_id(13)
        cur, country = self.pick(CURRENCY)
        brand = self.pick(BRAND)
        variants = []
        for i in range(self.r.randint(1, 5)):
            variants.append({'id': self.id_value(14), 'product_id': int(pid), 'title': f'{self.pick(COLOR)} / '
                             f'{self.pick(SIZE)}', 'sku': self.sku(), 'barcode': self.ean13(),
                             'price': f'{self.price():.2f}', 'compare_at_price': None, 'position': i + 1,
                             'inventory_item_id': self.id_value(14), 'inventory_quantity': self.r.randint(0, 400),
                             'grams': self.r.randint(80, 2400), 'weight_unit': 'g',
                             'admin_graphql_api_id': f'gid://shopify/ProductVariant/{self.long_id(14)}'})
        return {'id': int(pid), 'admin_graphql_api_id': f'gid://shopify/Product/{pid}', 'title': self.title(),
                'vendor': brand, 'product_type': self.pick(['Apparel', 'Outdoor', 'Kitchen', 'Audio']),
                'handle': self.title().lower().replace(' ', '-'), 'status': 'active', 'currency': cur,
                'created_at': self.iso(), 'updated_at': self.iso(), 'tags': ', '.join(self.r.sample(
                    ['new', 'sale', 'bestseller', 'eco', 'gift', 'bundle'], 3)),
                'variants': variants,
                'images': [{'id': self.id_value(14), 'product_id': int(pid), 'width': 2048, 'height': 2048,
                            'src': f'https://cdn.shopify.com/s/files/1/{self.digits(4)}/{self.digits(4)}/products/'
                                   f'{self.hexstr(12)}.jpg?v={self.ts_ms() // 1000}'}],
                'shop': {'name': brand, 'domain': f'{self.pick(SHOP)}.myshopify.com', 'country_code': country}}

    def order_paid(self):
        cur, country = self.pick(CURRENCY)
        items = []
        for _ in range(self.r.randint(1, 4)):
            items.append({'id': self.id_value(14), 'variant_id': self.id_value(14), 'product_id': self.id_value(13),
                          'sku': self.sku(), 'title': self.title(), 'vendor': self.pick(BRAND),
                          'quantity': self.r.randint(1, 3), 'price': f'{self.price():.2f}', 'taxable': True,
                          'fulfillment_service': 'manual', 'gift_card': False})
        o = {'id': self.id_value(13), 'order_number': self.r.randint(1001, 99999),
             'name': f'#{self.r.randint(1001, 99999)}', 'checkout_id': self.id_value(14),
             'checkout_token': self.hexstr(32), 'cart_token': self.b62(26), 'token': self.hexstr(32),
             'transaction_id': self.id_value(16), 'financial_status': 'paid', 'currency': cur,
             'presentment_currency': cur, 'total_price': f'{self.price() * 2:.2f}', 'source_name': 'pos',
             'processed_at': self.iso(), 'location_id': self.id_value(11), 'customer': None,
             'line_items': items,
             'shipping_lines': [{'code': 'Standard', 'price': '0.00', 'source': 'shopify',
                                 'carrier_identifier': self.hexstr(32)}],
             'payment_details': {'credit_card_bin': self.digits(6), 'credit_card_company': 'Visa',
                                 'credit_card_number': '•••• •••• •••• ' + self.digits(4, '0123456789'),
                                 'avs_result_code': 'Y', 'cvv_result_code': 'M'},
             'client_details': {'user_agent': self.user_agent(), 'accept_language': 'en-US,en;q=0.9',
                                'browser_ip': None},
             'pickup_location': self.facility('store') if self.r.random() < 0.3 else None,
             'tax_lines': [{'title': 'State Tax', 'rate': 0.0725, 'price': '3.48',
                            'jurisdiction_code': self.postal_like()}]}
        o.update(self.empty_contact())
        o['confirmation_number'] = self.ref_code()
        o['discount_codes'] = [{'code': 'WELCOME10', 'voucher_code': self.ref_code()}]
        if self.r.random() < 0.5:
            o['billing_address'] = {'first_name': None, 'last_name': None, 'address1': None, 'city': None,
                                    'zip': None, 'country_code': None, 'phone': None}
        return o

    def ad_event(self, kind):
        cur, country = self.pick(CURRENCY)
        adkey = self.pick(['ad_id', 'adId', 'AdID', 'ad-id', 'ad_id'])
        e = {'event_id': self.uuid(), 'event_type': kind, 'timestamp': self.ts_ms(), 'network': self.pick(NETWORK),
             'campaign_id': self.id_value(self.pick([10, 11, 17, 18])),
             'campaign': {'id': self.id_value(17), 'name': f'{self.pick(["Summer Sale", "BFCM", "Evergreen", "Launch"])}'
                                                           f' {self.r.randint(2023, 2025)} - '
                                                           f'{self.pick(["Prospecting", "Retargeting", "Brand"])} - '
                                                           f'{country}',
                          'objective': self.pick(['CONVERSIONS', 'TRAFFIC', 'REACH'])},
             'ad_group_id': self.id_value(11), adkey: self.id_value(self.pick([13, 16, 17, 18])),
             'creative': {'id': self.id_value(16), 'name': f'{self.title()} - {self.pick(["9x16", "1x1", "4x5"])}',
                          'format': self.pick(['video', 'image', 'carousel'])},
             'placement': self.pick(PLACEMENT),
             'publisher': {'id': 'pub-' + self.digits(16), 'name': self.pick(['Daily Planet', 'Metro Weekly',
                                                                              'Gadget Review Hub', 'RecipeBox']),
                           'domain': self.pick(['dailyplanet.example', 'metroweekly.example', 'recipebox.example'])},
             'bid': {'price': round(self.r.uniform(0.2, 14.0), 4), 'currency': cur,
                     'auction_id': self.id_value(19)},
             'device': self.device_block(), 'geo': self.geo_block(country),
             'sdk': {'name': self.pick(['AcmeAds SDK', 'Pixel', 'AppLovin MAX']), 'version': self.app_version()},
             'app': f'{self.pick(BRAND)} {self.app_version()}'}
        if kind == 'click':
            e['landing_url'] = (f'https://{self.pick(SHOP)}.example/products/{self.title().lower().replace(" ", "-")}'
                                f'?utm_source={e["network"]}&utm_medium=paid&utm_campaign={e["campaign_id"]}'
                                f'&utm_content={e[adkey]}')
        return e

    def conversion(self):
        cur, country = self.pick(CURRENCY)
        contents = [{'id': self.sku(), 'quantity': self.r.randint(1, 3), 'item_price': self.price()}
                    for _ in range(self.r.randint(1, 3))]
        return {'event_name': 'Purchase', 'event_time': self.ts_ms() // 1000, 'event_id': self.uuid(),
                'action_source': 'website',
                'user_data': {'em': [self.sha256()], 'ph': [], 'external_id': [self.sha256()],
                              'client_ip_address': '0.0.0.0', 'fbp': None, 'country': [self.sha256()]},
                'custom_data': {'value': self.price(), 'currency': cur, 'order_id': self.id_value(16),
                                'content_ids': [self.id_value(13) for _ in contents], 'contents': contents,
                                'num_items': len(contents)},
                'partner_agent': f'shopify-{self.app_version()}', 'data_processing_options': []}

    def payout(self):
        cur, country = self.pick(CURRENCY)
        return {'id': 'po_' + self.b62(24), 'object': 'payout', 'amount': self.r.randint(1000, 9000000),
                'currency': cur.lower(), 'arrival_date': self.ts_ms() // 1000, 'status': 'paid',
                'balance_transaction': 'txn_' + self.b62(24), 'transaction_id': self.id_value(16),
                'settlement_batch_id': self.id_value(15), 'statement_descriptor': self.pick(BRAND).upper()[:22],
                'destination': {'object': 'bank_account', 'bank_name': self.pick(['STRIPE TEST BANK', 'FIRST DEMO '
                                                                                  'BANK']),
                                'last4': self.digits(4, '0123456789'), 'routing_number': '110000000',
                                'country': country, 'fingerprint': self.b62(16)},
                'bank_account': {'bank_name': 'STRIPE TEST BANK', 'last4': self.digits(4, '0123456789'),
                                 'routing_number': '110000000', 'status': 'verified'},
                'payment_method_options': {'zip': {'available': self.r.random() < 0.5},
                                           'card': {'brand': 'visa', 'last4': '4242', 'exp_month': 8,
                                                    'exp_year': 2030, 'fingerprint': self.b62(16)}},
                'metadata': {'order_id': str(self.long_id(16)), 'batch': self.digits(8)}}

    def inventory_sync(self):
        return {'event': 'inventory_levels/update', 'request_id': self.uuid(), 'occurred_at': self.iso(),
                'warehouse': self.facility('warehouse'),
                'levels': [{'inventory_item_id': self.id_value(14), 'sku': self.sku(), 'upc': self.ean13()[1:],
                            'available': self.r.randint(0, 900), 'bin': f'{self.pick("ABCDEF")}-{self.digits(2)}'}
                           for _ in range(self.r.randint(1, 6))],
                'source': {'app': f'WMS Connector {self.app_version()}', 'build': self.app_version()}}

    def store_visit(self):
        return {'event_id': self.uuid(), 'type': 'store_footfall', 'ts': self.ts_ms(),
                'store': self.facility('store'),
                'counts': {'entries': self.r.randint(0, 800), 'exits': self.r.randint(0, 800)},
                'sensor': {'id': self.id_value(13), 'firmware': self.app_version(), 'model': 'CountPro X2'}}

    def notification(self):
        tmpl = self.pick(['order_confirmation', 'shipping_update', 'abandoned_cart_reminder'])
        dom = self.pick(SHOP) + '.example'
        return {'id': self.id_value(13), 'template': tmpl, 'status': 'queued', 'to': '', 'recipient': None,
                'message_id': f'<{self.hexstr(8)}.{self.hexstr(4)}@mailer.{dom}>',
                'headers': {'In-Reply-To': None,
                            'References': f'<{self.ts_ms()}.{self.digits(6)}.JavaMail.app@mta-{self.digits(2)}.{dom}>'},
                'attachments': [{'filename': 'logo.png', 'content_type': 'image/png',
                                 'content_id': f'cid:part1.{self.hexstr(8).upper()}.{self.hexstr(8).upper()}@{dom}'}],
                'html': f'<img src="cid:part1.{self.hexstr(8).upper()}.{self.hexstr(8).upper()}@{dom}" alt="logo">'
                        f'<p>Order {self.r.randint(1001, 99999)} ships from {self.pick(FACILITY)}.</p>',
                'order_id': self.id_value(13), 'checkout_id': self.id_value(14),
                'booking_reference': self.ref_code(), 'tracking_number': self.ref_code()}

    def deployment(self):
        return {'event': 'infra_change', 'id': self.uuid(), 'at': self.iso(),
                'resource': {'address': self.pick(RESOURCE), 'type': 'aws_lambda_function', 'mode': 'managed',
                             'provider_name': 'registry.terraform.io/hashicorp/aws',
                             'name': self.pick(['order_webhook', 'events_dlq', 'storefront'])},
                'change': {'actions': [self.pick(['update', 'create', 'no-op'])],
                           'after': {'function_name': 'order-webhook', 'runtime': 'python3.12',
                                     'memory_size': self.pick([128, 256, 512]),
                                     'source_code_hash': self.sha256(),
                                     'version': self.app_version()}},
                'pipeline': {'run_id': self.id_value(19), 'commit': self.hexstr(40), 'service': 'checkout'}}

    EVENTS = [('shop_product_update', 'product_update', 18), ('shop_order_paid', 'order_paid', 16),
              ('ad_impression', 'impression', 16), ('ad_click', 'click', 8), ('capi_conversion', 'conversion', 10),
              ('payout', 'payout', 8), ('inventory_sync', 'inventory_sync', 8), ('store_visit', 'store_visit', 6),
              ('email_notification', 'notification', 6), ('infra_change', 'deployment', 4)]

    def event(self):
        names, kinds, weights = zip(*self.EVENTS)
        i = self.r.choices(range(len(names)), weights=weights)[0]
        k = kinds[i]
        if k in ('impression', 'click'):
            return names[i], self.ad_event(k)
        return names[i], getattr(self, k)()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--count', type=int, default=20000)
    ap.add_argument('--seed', type=int, default=20261207)
    ap.add_argument('out', nargs='?')
    a = ap.parse_args()
    g = Gen(a.seed)
    out = open(a.out, 'w') if a.out else sys.stdout
    for n in range(a.count):
        sub, doc = g.event()
        out.write(json.dumps({'source': 'lookalike_gen', 'sub': sub, 'kind': 'c',
                              'origin': f'bench/lookalikes_gen.py#seed={a.seed},n={n}', 'doc': doc},
                             ensure_ascii=False) + '\n')
    if a.out:
        out.close()


if __name__ == '__main__':
    main()

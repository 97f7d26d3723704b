-- Demo / integration data for pii-auditd: the product's three surfaces with realistic webhook payloads.
--   public.attribution_events.raw_payload  1000 rows   (Stripe / Shopify / Segment / Google Ads / Meta CAPI)
--   public.dead_events.raw_payload          300 rows   (same webhook shapes, plus ingest error details)
--   public.revenue_ledger.metadata          700 rows   (7 SQL NULL, 7 JSON null)
-- Load: psql -X -v ON_ERROR_STOP=1 -f tests/data/demo-data.sql      (drops and recreates the three tables)
--
-- Deterministic: no random(), no now(); every id, digest and value derives from generate_series and md5/sha512,
-- so every load produces identical rows. The generated rows are CLEAN by the detection spec; the planted PII is
-- applied afterwards by the UPDATEs in section 3, each commented with the finding(s) it must produce. The complete
-- expected findings are in tests/data/demo-expected.tsv (table, record id, JSON path, category); the tempting
-- negatives (PII-like keys whose values must NOT be findings) are listed in section 4.
-- Every value below is fictitious or a documented test value (test card PANs, sample IBANs, example.* domains).
-- Checks of the data itself (not of pii-auditd): tests/data/demo-check.sql (every expected path exists and holds
-- data) and tests/data/spec_oracle.py (an independent reference scan of the spec; it reproduces demo-expected.tsv).

\set ON_ERROR_STOP on
SET client_min_messages = warning;
BEGIN;

DROP TABLE IF EXISTS public.attribution_events, public.dead_events, public.revenue_ledger;

CREATE TABLE public.attribution_events (
    id          uuid PRIMARY KEY,
    received_at timestamptz NOT NULL,
    source      text NOT NULL,
    raw_payload jsonb NOT NULL
);
CREATE TABLE public.dead_events (
    id          bigint PRIMARY KEY,
    error_code  text,
    raw_payload jsonb NOT NULL
);
CREATE TABLE public.revenue_ledger (
    id           bigint PRIMARY KEY,
    amount_cents bigint NOT NULL,
    currency     text NOT NULL,
    metadata     jsonb NULL
);

-- ---------------------------------------------------------------------------------------------------------------
-- 1. Helpers (session-local, gone at disconnect)
-- ---------------------------------------------------------------------------------------------------------------

-- Hex digest-looking string of len (<= 128) chars. Runs of digits are cut at 9 so that no digest can contain
-- something a card or phone detector could take for a number.
CREATE FUNCTION pg_temp.hx(seed text, len int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT left(regexp_replace(encode(sha512(convert_to(seed, 'UTF8')), 'hex'), '([0-9]{9})[0-9]', '\1e', 'g'), len)
$$;
-- Base62-looking id (Stripe / Shopify tokens): mixed case, digits in short runs.
CREATE FUNCTION pg_temp.sid(seed text, len int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT left(translate(pg_temp.hx(seed, 128), '0a1b2c3d', 'QkRmTxVz'), len)
$$;
CREATE FUNCTION pg_temp.uid(seed text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT md5(seed)::uuid::text
$$;
CREATE FUNCTION pg_temp.iso(t bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(timestamp '1970-01-01' + t * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;
CREATE FUNCTION pg_temp.money(cents bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(cents / 100.0, 'FM999999990.00')
$$;
-- Browser user agents. Chrome builds have a 4-digit third component, so none is a dotted quad.
CREATE FUNCTION pg_temp.ua(k int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT (ARRAY[
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.130 Safari/537.36',
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1',
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2.1 Safari/605.1.15',
      'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.6167.101 Mobile Safari/537.36',
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0',
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.6045.199 Safari/537.36 Edg/119.0.2151.97'
    ])[1 + k % 6]
$$;

CREATE TEMP TABLE demo_products (p int PRIMARY KEY, title text, sku text, vendor text, category text, cents int,
                                 grams int);
INSERT INTO demo_products VALUES
    (0,  'Trail Runner 3',            'TR3-BLU-42',  'Northpeak',     'Footwear',    12900, 780),
    (1,  'Merino Crew Socks',         'MCS-GRY-M',   'Northpeak',     'Socks',        1850,  90),
    (2,  'Packable Rain Shell',       'PRS-RED-L',   'Fjellstad',     'Outerwear',   15900, 310),
    (3,  'Insulated Bottle 750ml',    'IB-750-SLT',  'Cascade Goods', 'Accessories',  3400, 420),
    (4,  'Ultralight Daypack 22L',    'UDP-22-OLV',  'Fjellstad',     'Bags',         8900, 560),
    (5,  'Thermal Base Layer Top',    'TBL-BLK-S',   'Northpeak',     'Baselayers',   6400, 210),
    (6,  'Trekking Poles (pair)',     'TPP-CRB-120', 'Summitline',    'Gear',        11900, 480),
    (7,  'Wool Beanie',               'WB-NVY-OS',   'Cascade Goods', 'Headwear',     2900,  80),
    (8,  'Headlamp 400 Lumen',        'HL-400-BLK',  'Summitline',    'Lighting',     4500, 110),
    (9,  'Camp Mug Enamel',           'CME-WHT-12',  'Cascade Goods', 'Kitchen',      1600, 260),
    (10, 'Hiking Shorts 7in',         'HS7-KHK-32',  'Fjellstad',     'Bottoms',      5500, 240),
    (11, 'Gift Card',                 'GIFT-50',     'Northpeak',     'Gift Cards',   5000,   0);

CREATE FUNCTION pg_temp.campaign(k int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT (ARRAY['spring_sale_2024', 'brand_search', 'retargeting_7d', 'new_arrivals', 'free_shipping_weekend',
                  'pmax_outdoor'])[1 + k % 6]
$$;
CREATE FUNCTION pg_temp.utm_source(k int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT (ARRAY['google', 'facebook', 'newsletter', 'instagram', 'bing', 'tiktok', 'direct'])[1 + k % 7]
$$;
CREATE FUNCTION pg_temp.medium(k int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT (ARRAY['cpc', 'paid_social', 'email', 'paid_social', 'cpc', 'paid_social', 'none'])[1 + k % 7]
$$;

-- ---------------------------------------------------------------------------------------------------------------
-- 2. Clean payload builders. Nothing here may match a rule: no PII-like keys except with null/false values that
--    real providers send (receipt_email: null, userAgentData.mobile: false), no '@', no phone-like digit groups,
--    no dotted quads, no colon-separated hex, no long digit runs.
-- ---------------------------------------------------------------------------------------------------------------

-- Stripe-like charge event.
CREATE FUNCTION pg_temp.p_stripe(n int, tag text) RETURNS jsonb LANGUAGE sql AS $$
SELECT jsonb_build_object(
    'id', 'evt_3' || pg_temp.sid(tag || 'evt' || n, 23),
    'object', 'event',
    'api_version', '2023-10-16',
    'created', 1709251200 + n * 97,
    'type', (ARRAY['charge.succeeded', 'charge.captured', 'charge.updated', 'charge.refunded'])[1 + n % 4],
    'livemode', n % 3 <> 0,
    'pending_webhooks', 1 + n % 2,
    'request', jsonb_build_object('id', 'req_' || pg_temp.sid(tag || 'req' || n, 14),
                                  'idempotency_key', pg_temp.uid(tag || 'idem' || n)),
    'data', jsonb_build_object('object', jsonb_build_object(
        'id', 'ch_3' || pg_temp.sid(tag || 'ch' || n, 23),
        'object', 'charge',
        'amount', 500 + (n * 7919) % 150000,
        'amount_captured', 500 + (n * 7919) % 150000,
        'amount_refunded', CASE WHEN n % 4 = 3 THEN 500 + (n * 7919) % 150000 ELSE 0 END,
        'application_fee_amount', NULL,
        'balance_transaction', 'txn_3' || pg_temp.sid(tag || 'txn' || n, 23),
        'captured', true,
        'created', 1709251200 + n * 97 - 2,
        'currency', (ARRAY['usd', 'usd', 'eur', 'gbp', 'cad'])[1 + n % 5],
        'customer', 'cus_' || pg_temp.sid(tag || 'cus' || n, 14),
        'description', 'Order #' || (1000 + n),
        'disputed', false,
        'failure_code', NULL,
        'failure_message', NULL,
        'paid', true,
        'payment_intent', 'pi_3' || pg_temp.sid(tag || 'pi' || n, 23),
        'payment_method', 'pm_1' || pg_temp.sid(tag || 'pm' || n, 23),
        'payment_method_details', jsonb_build_object(
            'type', 'card',
            'card', jsonb_build_object(
                'brand', (ARRAY['visa', 'mastercard', 'amex', 'visa'])[1 + n % 4],
                'last4', lpad(((n * 37) % 10000)::text, 4, '0'),
                'exp_month', 1 + n % 12,
                'exp_year', 2025 + n % 5,
                'funding', (ARRAY['credit', 'debit'])[1 + n % 2],
                'country', (ARRAY['US', 'DE', 'GB', 'CA'])[1 + n % 4],
                'fingerprint', pg_temp.sid(tag || 'fp' || n, 16),
                'network', (ARRAY['visa', 'mastercard', 'amex', 'visa'])[1 + n % 4],
                'three_d_secure', NULL,
                'wallet', CASE WHEN n % 6 = 0 THEN jsonb_build_object('type', 'apple_pay') END,
                'checks', jsonb_build_object('cvc_check', 'pass', 'address_line1_check', NULL,
                                             'address_postal_code_check', 'pass'))),
        'receipt_email', NULL,
        'receipt_number', NULL,
        'receipt_url', 'https://pay.stripe.com/receipts/payment/' || pg_temp.sid(tag || 'rcpt' || n, 48),
        'refunded', n % 4 = 3,
        'statement_descriptor', 'NORTHPEAK OUTFITTERS',
        'metadata', jsonb_build_object(
            'order_id', (1000 + n)::text,
            'cart_id', pg_temp.uid(tag || 'cart' || n),
            'utm_source', pg_temp.utm_source(n),
            'utm_campaign', pg_temp.campaign(n),
            'platform', 'shopify'),
        'outcome', jsonb_build_object(
            'network_status', 'approved_by_network',
            'reason', NULL,
            'risk_level', (ARRAY['normal', 'normal', 'elevated'])[1 + n % 3],
            'risk_score', (n * 13) % 70,
            'seller_message', 'Payment complete.',
            'type', 'authorized'),
        'refunds', jsonb_build_object('object', 'list', 'data', '[]'::jsonb, 'has_more', false, 'total_count', 0,
                                      'url', '/v1/charges/ch_3' || pg_temp.sid(tag || 'ch' || n, 23) || '/refunds')
    )));
$$;

-- Shopify-like orders/create webhook.
CREATE FUNCTION pg_temp.p_shopify(n int, tag text) RETURNS jsonb LANGUAGE sql AS $$
SELECT jsonb_build_object(
    'id', 5400000000 + n * 7,
    'admin_graphql_api_id', 'gid://shopify/Order/' || (5400000000 + n * 7),
    'name', '#' || (1000 + n),
    'order_number', 1000 + n,
    'token', pg_temp.hx(tag || 'tok' || n, 32),
    'cart_token', pg_temp.sid(tag || 'cart' || n, 26),
    'checkout_token', pg_temp.hx(tag || 'co' || n, 32),
    'created_at', to_char(timestamp '1970-01-01' + (1709251200 + n * 97 - 18000) * interval '1 second',
                          'YYYY-MM-DD"T"HH24:MI:SS') || '-05:00',
    'processed_at', to_char(timestamp '1970-01-01' + (1709251200 + n * 97 - 18000) * interval '1 second',
                            'YYYY-MM-DD"T"HH24:MI:SS') || '-05:00',
    'currency', 'USD',
    'presentment_currency', 'USD',
    'financial_status', (ARRAY['paid', 'paid', 'authorized', 'partially_refunded'])[1 + n % 4],
    'fulfillment_status', CASE WHEN n % 3 = 0 THEN 'fulfilled' END,
    'subtotal_price', pg_temp.money(li.subtotal),
    'total_tax', pg_temp.money(li.subtotal * 725 / 10000),
    'total_price', pg_temp.money(li.subtotal + li.subtotal * 725 / 10000 + 500),
    'total_weight', li.grams,
    'taxes_included', false,
    'source_name', (ARRAY['web', 'web', 'shopify_draft_order', 'pos'])[1 + n % 4],
    'landing_site', '/products/' || lower(replace(li.first_title, ' ', '-')) || '?utm_source=' ||
                    pg_temp.utm_source(n) || '&utm_medium=' || pg_temp.medium(n) || '&utm_campaign=' ||
                    pg_temp.campaign(n),
    'referring_site', (ARRAY['https://www.google.com/', 'https://l.facebook.com/', '', 'https://www.instagram.com/'])[1 + n % 4],
    'tags', (ARRAY['', 'wholesale', 'vip, repeat', ''])[1 + n % 4],
    'test', false,
    'buyer_accepts_marketing', n % 2 = 0,
    'email_marketing_consent', jsonb_build_object('state', 'not_subscribed', 'opt_in_level', 'single_opt_in',
                                                  'consent_updated_at', NULL),
    'discount_codes', CASE WHEN n % 5 = 1 THEN jsonb_build_array(jsonb_build_object('code', 'SPRING15', 'amount',
                      pg_temp.money(li.subtotal * 15 / 100), 'type', 'percentage')) ELSE '[]'::jsonb END,
    'line_items', li.items,
    'shipping_lines', jsonb_build_array(jsonb_build_object('code', 'Standard', 'title', 'Standard Shipping',
                                                           'price', '5.00', 'source', 'shopify')),
    'fulfillments', CASE WHEN n % 3 = 0 THEN jsonb_build_array(jsonb_build_object(
        'id', 4100000000 + n,
        'status', 'success',
        'tracking_company', 'UPS',
        'tracking_number', CASE WHEN n % 2 = 0 THEN '1Z999AA10123456784'
                                ELSE '1Z' || upper(translate(pg_temp.hx(tag || 'ups' || n, 6), '0123456789', 'AWEXRFYTHV'))
                                     || '03' || lpad(((n * 7331) % 100000000)::text, 8, '0') END,
        'tracking_url', 'https://www.ups.com/track?loc=en_US&tracknum=1Z999AA10123456784',
        'created_at', pg_temp.iso(1709251200 + n * 97 + 86400))) ELSE '[]'::jsonb END,
    'note_attributes', jsonb_build_array(jsonb_build_object('name', 'gift_wrap', 'value', (ARRAY['no', 'yes'])[1 + n % 2]),
                                         jsonb_build_object('name', 'sales_channel', 'value', 'online_store')),
    'client_details', jsonb_build_object('accept_language', 'en-US,en;q=0.9', 'browser_height', 700 + n % 300,
                                         'browser_width', 1200 + n % 700, 'session_hash', pg_temp.hx(tag || 'sh' || n, 32),
                                         'user_agent', pg_temp.ua(n)))
FROM (SELECT jsonb_agg(jsonb_build_object(
                 'id', 13000000000 + n * 10 + k,
                 'admin_graphql_api_id', 'gid://shopify/LineItem/' || (13000000000 + n * 10 + k),
                 'product_id', 7300000000 + p.p,
                 'variant_id', 41000000000 + p.p * 100 + n % 7,
                 'title', p.title,
                 'variant_title', (ARRAY['S / Black', 'M / Blue', 'L / Olive', 'One Size'])[1 + (n + k) % 4],
                 'sku', p.sku,
                 'vendor', p.vendor,
                 'quantity', 1 + (n + k) % 3,
                 'price', pg_temp.money(p.cents),
                 'grams', p.grams,
                 'requires_shipping', p.grams > 0,
                 'taxable', true,
                 'gift_card', p.p = 11,
                 'fulfillment_service', 'manual',
                 'fulfillment_status', NULL,
                 'properties', '[]'::jsonb,
                 'tax_lines', jsonb_build_array(jsonb_build_object('title', 'State Tax', 'rate', 0.0725,
                              'price', pg_temp.money(p.cents * (1 + (n + k) % 3) * 725 / 10000))),
                 'discount_allocations', '[]'::jsonb) ORDER BY k) AS items,
             sum(p.cents * (1 + (n + k) % 3)) AS subtotal,
             sum(p.grams * (1 + (n + k) % 3)) AS grams,
             min(p.title) FILTER (WHERE k = 0) AS first_title
        FROM generate_series(0, n % 4) k
        JOIN demo_products p ON p.p = (n * 3 + k * 5) % 12) li;
$$;

-- Segment-like track event.
CREATE FUNCTION pg_temp.p_segment(n int, tag text) RETURNS jsonb LANGUAGE sql AS $$
SELECT jsonb_build_object(
    'type', 'track',
    'event', (ARRAY['Order Completed', 'Product Viewed', 'Checkout Started', 'Product Added'])[1 + n % 4],
    'messageId', 'ajs-next-' || pg_temp.hx(tag || 'msg' || n, 32),
    'anonymousId', pg_temp.uid(tag || 'anon' || n),
    'userId', 'usr_' || pg_temp.sid(tag || 'usr' || n, 20),
    'timestamp', pg_temp.iso(1709251200 + n * 97),
    'originalTimestamp', pg_temp.iso(1709251200 + n * 97 - 1),
    'sentAt', pg_temp.iso(1709251200 + n * 97),
    'receivedAt', pg_temp.iso(1709251200 + n * 97 + 1),
    'version', 2,
    'channel', 'client',
    'writeKey', pg_temp.sid(tag || 'wk' || n % 3, 32),
    'context', jsonb_build_object(
        'library', jsonb_build_object('name', 'analytics.js', 'version', 'next-1.64.0'),
        'locale', (ARRAY['en-US', 'de-DE', 'en-GB', 'fr-FR'])[1 + n % 4],
        'timezone', (ARRAY['America/New_York', 'Europe/Berlin', 'Europe/London', 'Europe/Paris'])[1 + n % 4],
        'userAgent', pg_temp.ua(n),
        'userAgentData', jsonb_build_object(
            'brands', jsonb_build_array(jsonb_build_object('brand', 'Chromium', 'version', '120'),
                                        jsonb_build_object('brand', 'Not_A Brand', 'version', '8')),
            'mobile', false,
            'platform', 'Windows'),
        'os', jsonb_build_object('name', 'Windows', 'version', '10.0.19041.1'),
        'screen', jsonb_build_object('width', 1920, 'height', 1080, 'density', 1),
        'page', jsonb_build_object(
            'path', '/checkout/thank-you',
            'referrer', 'https://www.google.com/',
            'search', '?utm_source=' || pg_temp.utm_source(n) || '&utm_medium=' || pg_temp.medium(n) ||
                      '&utm_campaign=' || pg_temp.campaign(n),
            'title', 'Thank you - Northpeak Outfitters',
            'url', 'https://shop.northpeak.example/checkout/thank-you?utm_source=' || pg_temp.utm_source(n) ||
                   '&utm_medium=' || pg_temp.medium(n) || '&utm_campaign=' || pg_temp.campaign(n)),
        'campaign', jsonb_build_object('name', pg_temp.campaign(n), 'source', pg_temp.utm_source(n),
                                       'medium', pg_temp.medium(n), 'term', 'trail running shoes',
                                       'content', 'ad_variant_' || (ARRAY['a', 'b', 'c'])[1 + n % 3])),
    'properties', jsonb_build_object(
        'order_id', (1000 + n)::text,
        'checkout_id', pg_temp.hx(tag || 'chk' || n, 24),
        'affiliation', 'Online Store',
        'total', round((li.subtotal + 500) / 100.0, 2),
        'revenue', round(li.subtotal / 100.0, 2),
        'shipping', 5.00,
        'tax', round(li.subtotal * 725 / 1000000.0, 2),
        'discount', 0,
        'coupon', NULL,
        'currency', 'USD',
        'products', li.items),
    'integrations', jsonb_build_object('All', true, 'Google Analytics',
                                       jsonb_build_object('clientId', (100000000 + (n * 7919) % 900000000)::text
                                                                      || '.' || (1709251200 + n * 97)::text)))
FROM (SELECT jsonb_agg(jsonb_build_object(
                 'product_id', 'prod_' || (7300000000 + p.p),
                 'sku', p.sku,
                 'name', p.title,
                 'brand', p.vendor,
                 'category', p.category,
                 'price', round(p.cents / 100.0, 2),
                 'quantity', 1 + (n + k) % 3,
                 'position', k + 1,
                 'url', 'https://shop.northpeak.example/products/' || lower(replace(p.sku, ' ', '-')),
                 'image_url', 'https://cdn.northpeak.example/img/' || pg_temp.hx(p.sku, 16) || '.jpg') ORDER BY k) AS items,
             sum(p.cents * (1 + (n + k) % 3)) AS subtotal
        FROM generate_series(0, n % 3) k
        JOIN demo_products p ON p.p = (n * 5 + k * 7) % 12) li;
$$;

-- Google-Ads-like click / attribution record.
CREATE FUNCTION pg_temp.p_gads(n int, tag text) RETURNS jsonb LANGUAGE sql AS $$
SELECT jsonb_build_object(
    'event', 'ad_click',
    'platform', 'google_ads',
    'click_id', pg_temp.uid(tag || 'click' || n),
    'gclid', 'Cj0KCQiA' || pg_temp.sid(tag || 'gclid' || n, 56) || '_BwE',
    'ts_ms', (1709251200 + n * 97)::bigint * 1000 + (n * 37) % 1000,
    'campaign', jsonb_build_object(
        'id', (2000000000 + n % 40)::text,
        'name', pg_temp.campaign(n),
        'ad_group_id', (1300000000 + n % 120)::text,
        'creative_id', (6800000000 + n % 300)::text,
        'keyword', (ARRAY['trail running shoes', 'rain jacket', 'daypack', 'merino socks'])[1 + n % 4],
        'match_type', (ARRAY['phrase', 'exact', 'broad'])[1 + n % 3],
        'network', (ARRAY['search', 'display', 'youtube'])[1 + n % 3]),
    'utm', jsonb_build_object('utm_source', 'google', 'utm_medium', 'cpc', 'utm_campaign', pg_temp.campaign(n),
                              'utm_term', replace((ARRAY['trail running shoes', 'rain jacket', 'daypack',
                                                         'merino socks'])[1 + n % 4], ' ', '+'),
                              'utm_content', 'rsa_' || (1 + n % 9)),
    'landing_page', 'https://shop.northpeak.example/collections/trail?utm_source=google&utm_medium=cpc&utm_campaign=' ||
                    pg_temp.campaign(n) || '&gclid=Cj0KCQiA' || pg_temp.sid(tag || 'gclid' || n, 56) || '_BwE',
    'referrer', 'https://www.google.com/',
    'user_agent', pg_temp.ua(n + 3),
    'device', jsonb_build_object(
        'type', (ARRAY['mobile', 'desktop', 'tablet'])[1 + n % 3],
        'os', (ARRAY['Android', 'Windows', 'iPadOS'])[1 + n % 3],
        'os_version', (ARRAY['14', '10.0.19041.1', '17.2'])[1 + n % 3],
        'browser', 'Chrome',
        'browser_version', (ARRAY['121.0.6167.101', '120.0.6099.130', '120.0.6099.119'])[1 + n % 3]),
    'geo', jsonb_build_object(
        'country', 'US',
        'region', (ARRAY['CA', 'NY', 'WA', 'TX', 'CO'])[1 + n % 5],
        'city', (ARRAY['San Jose', 'Brooklyn', 'Seattle', 'Austin', 'Boulder'])[1 + n % 5],
        'dma', (ARRAY['807', '501', '819', '635', '751'])[1 + n % 5]),
    'cost_micros', 150000 + (n * 7919) % 2500000,
    'currency', 'USD',
    'conversion_value', pg_temp.money(1000 + (n * 7919) % 200000),
    'attribution', jsonb_build_object(
        'model', 'data_driven',
        'window_days', 30,
        'touchpoints', (SELECT jsonb_agg(jsonb_build_object(
                                   'ts_ms', (1709251200 + n * 97 - (3 - k) * 3600)::bigint * 1000,
                                   'channel', (ARRAY['organic_search', 'paid_search', 'email', 'direct'])[1 + (n + k) % 4],
                                   'campaign', pg_temp.campaign(n + k),
                                   'weight', round(1.0 / (2 + n % 3), 4)) ORDER BY k)
                          FROM generate_series(0, 1 + n % 3) k)),
    'integrity', jsonb_build_object('algo', 'sha256', 'digest', pg_temp.hx(tag || 'dig' || n, 64)));
$$;

-- Meta-Conversions-API-like purchase event (user_data already hashed, as Meta requires).
CREATE FUNCTION pg_temp.p_meta(n int, tag text) RETURNS jsonb LANGUAGE sql AS $$
SELECT jsonb_build_object(
    'data', jsonb_build_array(jsonb_build_object(
        'event_name', (ARRAY['Purchase', 'AddToCart', 'InitiateCheckout'])[1 + n % 3],
        'event_time', 1709251200 + n * 97,
        'event_id', pg_temp.uid(tag || 'mev' || n),
        'action_source', 'website',
        'event_source_url', 'https://shop.northpeak.example/checkout/thank-you?fbclid=IwAR' || pg_temp.sid(tag || 'fbclid' || n, 40),
        'user_data', jsonb_build_object(
            'client_user_agent', pg_temp.ua(n + 1),
            'fbc', 'fb.1.' || ((1709251200 + n * 97)::bigint * 1000) || '.IwAR' || pg_temp.sid(tag || 'fbclid' || n, 40),
            'fbp', 'fb.1.' || ((1709251200 + n * 97 - 86400)::bigint * 1000) || '.' || (1000000000 + (n * 7919) % 900000000),
            'external_id', jsonb_build_array(pg_temp.hx(tag || 'ext' || n, 64)),
            'em', jsonb_build_array(pg_temp.hx(tag || 'em' || n, 64))),
        'custom_data', jsonb_build_object(
            'currency', 'USD',
            'value', pg_temp.money(1000 + (n * 7919) % 200000),
            'order_id', (1000 + n)::text,
            'content_type', 'product',
            'content_ids', (SELECT jsonb_agg(p.sku ORDER BY k) FROM generate_series(0, n % 3) k
                              JOIN demo_products p ON p.p = (n + k * 5) % 12),
            'contents', (SELECT jsonb_agg(jsonb_build_object('id', p.sku, 'quantity', 1 + k % 2,
                                                             'item_price', round(p.cents / 100.0, 2)) ORDER BY k)
                           FROM generate_series(0, n % 3) k JOIN demo_products p ON p.p = (n + k * 5) % 12),
            'num_items', 1 + n % 3),
        'data_processing_options', '[]'::jsonb)),
    'partner_agent', 'northpeak-capi-1.4.2',
    'test_event_code', NULL,
    'signature', 'sha256=' || pg_temp.hx(tag || 'sig' || n, 64));
$$;

CREATE FUNCTION pg_temp.webhook(n int, tag text) RETURNS jsonb LANGUAGE sql AS $$
    SELECT CASE n % 5 WHEN 0 THEN pg_temp.p_stripe(n, tag)
                      WHEN 1 THEN pg_temp.p_shopify(n, tag)
                      WHEN 2 THEN pg_temp.p_segment(n, tag)
                      WHEN 3 THEN pg_temp.p_gads(n, tag)
                      ELSE pg_temp.p_meta(n, tag) END
$$;

-- Revenue ledger metadata.
CREATE FUNCTION pg_temp.p_ledger(n int) RETURNS jsonb LANGUAGE sql AS $$
SELECT jsonb_build_object(
    'stripe_charge_id', 'ch_3' || pg_temp.sid('rl-ch' || n, 23),
    'order_ref', '#' || (1000 + n),
    'channel', (ARRAY['web', 'pos', 'marketplace', 'web'])[1 + n % 4],
    'plan', (ARRAY['one_time', 'subscription_monthly', 'subscription_annual'])[1 + n % 3],
    'recognized_at', pg_temp.iso(1709251200 + n * 131),
    'attribution', jsonb_build_object(
        'model', (ARRAY['last_touch', 'first_touch', 'linear', 'data_driven'])[1 + n % 4],
        'source', pg_temp.utm_source(n),
        'medium', pg_temp.medium(n),
        'campaign', pg_temp.campaign(n),
        'click_ts_ms', (1709251200 + n * 131 - 7200)::bigint * 1000,
        'event_ref', pg_temp.uid('ae' || (1 + n % 1000)),
        'touchpoints', (SELECT jsonb_agg(jsonb_build_object('channel', pg_temp.utm_source(n + k), 'position', k + 1,
                                                            'credit', round(1.0 / (1 + n % 3), 4)) ORDER BY k)
                          FROM generate_series(0, n % 3) k)),
    'fx', jsonb_build_object('base', 'EUR', 'quote', 'USD', 'rate', '1.0856', 'source', 'ecb',
                             'as_of', pg_temp.iso(1709251200 + (n / 24) * 86400)),
    'invoice', jsonb_build_object(
        'number', 'INV-' || lpad(n::text, 6, '0'),
        'lines', (SELECT jsonb_agg(jsonb_build_object('description', p.title, 'sku', p.sku, 'quantity', 1 + k,
                                                      'amount', pg_temp.money(p.cents * (1 + k))) ORDER BY k)
                    FROM generate_series(0, n % 4) k JOIN demo_products p ON p.p = (n * 7 + k) % 12)),
    'tags', jsonb_build_array('q1-2024', (ARRAY['web', 'repeat', 'wholesale'])[1 + n % 3]),
    'ledger_hash', pg_temp.hx('rl-lh' || n, 64));
$$;

-- ---------------------------------------------------------------------------------------------------------------
-- 2b. Clean rows
-- ---------------------------------------------------------------------------------------------------------------

INSERT INTO public.attribution_events (id, received_at, source, raw_payload)
SELECT md5('ae' || n)::uuid,
       timestamptz '2024-03-01 00:00:00+00' + n * interval '97 seconds' + interval '2 seconds',
       (ARRAY['stripe', 'shopify', 'segment', 'google_ads', 'meta_capi'])[1 + n % 5],
       pg_temp.webhook(n, 'ae')
  FROM generate_series(1, 1000) n;

INSERT INTO public.dead_events (id, error_code, raw_payload)
SELECT n,
       (ARRAY['SCHEMA_VALIDATION_FAILED', 'UNKNOWN_EVENT_TYPE', 'SIGNATURE_INVALID', 'PII_DETECTED',
              'DUPLICATE_EVENT', NULL])[1 + n % 6],
       pg_temp.webhook(n, 'de') || jsonb_build_object('_ingest', jsonb_build_object(
           'attempts', 1 + n % 5,
           'source', (ARRAY['stripe', 'shopify', 'segment', 'google_ads', 'meta_capi'])[1 + n % 5],
           'last_error', (ARRAY['schema: /data/object/amount must be integer', 'unknown event type',
                                'signature mismatch for key v1', 'blocked by PII guardrail', 'duplicate event id',
                                'upstream timeout after 30s'])[1 + n % 6],
           'failed_at', pg_temp.iso(1709251200 + n * 311)))
  FROM generate_series(1, 300) n;

INSERT INTO public.revenue_ledger (id, amount_cents, currency, metadata)
SELECT n,
       CASE WHEN n % 17 = 0 THEN -(500 + (n * 7919) % 150000) ELSE 500 + (n * 7919) % 150000 END,
       (ARRAY['USD', 'USD', 'EUR', 'GBP', 'CAD'])[1 + n % 5],
       CASE WHEN n % 100 = 13 THEN NULL          -- SQL NULL metadata: ids 13, 113, ..., 613 (7 rows)
            WHEN n % 100 = 57 THEN 'null'::jsonb  -- JSON null metadata: ids 57, 157, ..., 657 (7 rows)
            ELSE pg_temp.p_ledger(n) END
  FROM generate_series(1, 700) n;

-- ---------------------------------------------------------------------------------------------------------------
-- 3. Planted PII. Each statement lists the finding(s) it must produce: path -> category (key = by key dictionary,
--    value = by value pattern, key+value = both, counted once). Row ids: attribution_events md5('ae'||n)::uuid.
-- ---------------------------------------------------------------------------------------------------------------

-- ae 7 (segment): identify-style traits.
--   $.email                      -> email        (key+value, depth 0)
--   $.context.traits.firstName   -> person_name  (key, camelCase)
--   $.context.traits.lastName    -> person_name  (key, camelCase)
--   negatives: traits.username "coolcat", traits.email_verified true
UPDATE public.attribution_events
   SET raw_payload = jsonb_set(raw_payload || '{"email": "ada.lovelace@example.com"}', '{context,traits}',
                               '{"firstName": "Ada", "lastName": "Lovelace", "username": "coolcat",
                                 "email_verified": true, "plan": "pro"}')
 WHERE id = md5('ae7')::uuid;

-- ae 11 (shopify): order with a shipping address object.
--   $.phone                          -> phone           (key+value, E.164, depth 0)
--   $.shipping_address               -> street_address  (key, prefixed, value is an object)
--   $.shipping_address.first_name    -> person_name     (key)
--   $.shipping_address.last_name     -> person_name     (key)
--   $.shipping_address.zip           -> postal_code     (key)
UPDATE public.attribution_events
   SET raw_payload = raw_payload || '{"phone": "+14155550132",
         "shipping_address": {"first_name": "Grace", "last_name": "Hopper", "line1": "742 Evergreen Terrace",
                              "city": "Springfield", "province_code": "OR", "zip": "97403", "country_code": "US"}}'
 WHERE id = md5('ae11')::uuid;

-- ae 16 (shopify): PII only in values under innocent keys.
--   $.line_items[0].properties[0].value -> phone  (value, "(415) 555-0132", inside arrays)
--   $.note                              -> email  (value, free text)
UPDATE public.attribution_events
   SET raw_payload = jsonb_set(raw_payload || '{"note": "Customer asked to be reached at grace.hopper@example.net"}',
                               '{line_items,0,properties}',
                               '[{"name": "gift_message", "value": "call me at (415) 555-0132"}]')
 WHERE id = md5('ae16')::uuid;

-- ae 22 (segment): mobile app context.
--   $.context.ip            -> ip_address   (key+value, IPv4)
--   $.context.location      -> geolocation  (lat + lng pair in the same object)
--   $.context.device.idfa   -> device_id    (key)
--   negative: context.timezone "Europe/Paris" (present in every segment row)
UPDATE public.attribution_events
   SET raw_payload = jsonb_set(jsonb_set(jsonb_set(jsonb_set(raw_payload,
           '{context,ip}', '"81.2.69.142"'),
           '{context,location}', '{"lat": 48.8566, "lng": 2.3522, "city": "Paris", "country": "FR"}'),
           '{context,device}', '{"type": "ios", "manufacturer": "Apple", "model": "iPhone15,2",
                                 "idfa": "6D92078A-8246-4BA4-AE5B-76104861E7DC", "adTrackingEnabled": true}'),
           '{context,timezone}', '"Europe/Paris"')
 WHERE id = md5('ae22')::uuid;

-- ae 33 (google_ads): click from an Android app.
--   $.clientIp      -> ip_address  (key+value, camelCase, IPv6)
--   $.device.gaid   -> device_id   (key)
UPDATE public.attribution_events
   SET raw_payload = jsonb_set(raw_payload || '{"clientIp": "2a03:2880:f12f:83:face:b00c:0:25de"}',
                               '{device,gaid}', '"38400000-8cf0-11bd-b23e-10b96e40000d"')
 WHERE id = md5('ae33')::uuid;

-- ae 40 (stripe): merchant stuffed customer data into charge metadata.
--   $.data.object.metadata.customer_first_name -> person_name  (key, prefixed)
--   $.data.object.metadata.customer_phone      -> phone        (key+value, prefixed, "(212) 555-0187")
--   $.data.object.metadata.card_number         -> credit_card  (key+value, "4111 1111 1111 1111")
UPDATE public.attribution_events
   SET raw_payload = jsonb_set(raw_payload, '{data,object,metadata}',
           raw_payload #> '{data,object,metadata}' || '{"customer_first_name": "Katherine",
                                                       "customer_phone": "(212) 555-0187",
                                                       "card_number": "4111 1111 1111 1111"}')
 WHERE id = md5('ae40')::uuid;

-- ae 58 (google_ads): customer contacts array.
--   $.customer.contacts[1].PHONE_NUMBER -> phone  (key+value, SCREAMING_SNAKE, "+44 20 7946 0958")
--   $.customer.contacts[2].email        -> email  (key+value, inside an array)
UPDATE public.attribution_events
   SET raw_payload = raw_payload || '{"customer": {"id": 6100000058, "state": "enabled", "contacts": [
           {"type": "support", "channel": "chat"},
           {"type": "sms", "PHONE_NUMBER": "+44 20 7946 0958"},
           {"type": "primary", "email": "linus.t@example.org"}]}}'
 WHERE id = md5('ae58')::uuid;

-- ae 64 (meta_capi): a map keyed by an email address (PII as key).
--   $.recipients.<email> -> email  (value detector on the key itself; children are clean)
UPDATE public.attribution_events
   SET raw_payload = raw_payload || '{"recipients": {"jane.roe@example.com": {"status": "delivered", "opened": true}}}'
 WHERE id = md5('ae64')::uuid;

-- ae 75 (stripe): SEPA debit charge.
--   $.data.object.payment_method_details.sepa_debit.iban -> iban  (key+value, mod-97 valid)
UPDATE public.attribution_events
   SET raw_payload = jsonb_set(raw_payload, '{data,object,payment_method_details}',
           '{"type": "sepa_debit", "sepa_debit": {"bank_code": "37040044", "country": "DE", "last4": "3000",
             "iban": "DE89370400440532013000"}}')
 WHERE id = md5('ae75')::uuid;

-- ae 91 (shopify): key variants at depth 0.
--   $["first name"]   -> person_name     (key with a space)
--   $["last-name"]    -> person_name     (key, kebab-case)
--   $.billingAddress  -> street_address  (key, camelCase prefixed, string)
--   $.postalCode      -> postal_code     (key, camelCase)
UPDATE public.attribution_events
   SET raw_payload = raw_payload || '{"first name": "Dorothy", "last-name": "Vaughan",
                                      "billingAddress": "221B Baker Street, London", "postalCode": "NW1 6XE"}'
 WHERE id = md5('ae91')::uuid;

-- ae 102 (segment): Wi-Fi BSSID in the network context.
--   $.context.network.bssid -> mac_address  (value, under an innocent key)
UPDATE public.attribution_events
   SET raw_payload = jsonb_set(raw_payload, '{context,network}',
                               '{"wifi": true, "cellular": false, "carrier": "T-Mobile", "bssid": "3c:22:fb:12:34:56"}')
 WHERE id = md5('ae102')::uuid;

-- ae 118 (google_ads): forwarded-for header copied into a touchpoint.
--   $.attribution.touchpoints[1].x_forwarded_for -> ip_address  (value, IPv4, inside an array)
UPDATE public.attribution_events
   SET raw_payload = jsonb_set(raw_payload, '{attribution,touchpoints,1,x_forwarded_for}', '"24.48.0.1"')
 WHERE id = md5('ae118')::uuid;

-- ae 160 (stripe): KYC data in charge metadata.
--   $.data.object.metadata.dob -> date_of_birth  (key)
--   $.data.object.metadata.ssn -> national_id    (key+value, "536-22-8714")
UPDATE public.attribution_events
   SET raw_payload = jsonb_set(raw_payload, '{data,object,metadata}',
           raw_payload #> '{data,object,metadata}' || '{"dob": "1985-04-12", "ssn": "536-22-8714"}')
 WHERE id = md5('ae160')::uuid;

-- dead 12 (segment shape): top-level key variants.
--   $.E_Mail_Address -> email          (key+value, tokens e|mail|address -> "emailaddress")
--   $.dateOfBirth    -> date_of_birth  (key, camelCase)
--   negative: "SSN": "***-**-1234" (masked)
UPDATE public.dead_events
   SET raw_payload = raw_payload || '{"E_Mail_Address": "mary.jackson@example.com", "dateOfBirth": "1990-07-01",
                                      "SSN": "***-**-1234"}'
 WHERE id = 12;

-- dead 47 (segment shape): PII echoed into the ingest error context.
--   $._ingest.context.mobile                 -> phone        (key+value, "+33 6 12 34 56 78")
--   $._ingest.context.social_security_number -> national_id  (key+value, "401-58-3312")
UPDATE public.dead_events
   SET raw_payload = jsonb_set(raw_payload, '{_ingest,context}',
                               '{"field": "traits", "mobile": "+33 6 12 34 56 78",
                                 "social_security_number": "401-58-3312"}')
 WHERE id = 47;

-- dead 88 (google_ads shape): delivery stops.
--   $.comment  -> national_id  (value, "287-65-4321" in free text)
--   $.stops[1] -> geolocation  (latitude + longitude pair, object inside an array)
UPDATE public.dead_events
   SET raw_payload = raw_payload || '{"comment": "applicant ssn 287-65-4321 on file",
         "stops": [{"seq": 1, "city": "Oakland"}, {"seq": 2, "latitude": 37.7749, "longitude": -122.4194}]}'
 WHERE id = 88;

-- dead 133 (google_ads shape): POS terminal report.
--   $.devices[0].macAddress -> mac_address  (key+value, camelCase, inside an array)
--   $.ip_address            -> ip_address   (key+value, IPv4)
UPDATE public.dead_events
   SET raw_payload = raw_payload || '{"devices": [{"kind": "pos_terminal", "macAddress": "00:1A:2B:3C:4D:5E"}],
                                      "ip_address": "81.2.69.160"}'
 WHERE id = 133;

-- dead 201 (shopify shape): PII only in values under innocent keys.
--   $.payout_reference -> iban         (value, "GB82WEST12345698765432")
--   $.memo             -> credit_card  (value, "5500-0000-0000-0004" in free text)
UPDATE public.dead_events
   SET raw_payload = raw_payload || '{"payout_reference": "GB82WEST12345698765432",
                                      "memo": "paid with 5500-0000-0000-0004 at the counter"}'
 WHERE id = 201;

-- dead 250 (stripe shape): nested customer record.
--   $.order.customer.fullName       -> person_name     (key, camelCase)
--   $.order.customer.street_address -> street_address  (key)
--   $.order.customer.zip_code       -> postal_code     (key)
UPDATE public.dead_events
   SET raw_payload = raw_payload || '{"order": {"ref": "#1250", "customer": {"fullName": "Alan Turing",
                                      "street_address": "1600 Amphitheatre Parkway", "zip_code": "94043"}}}'
 WHERE id = 250;

-- dead 299 (meta shape): device id and a remote host.
--   $.IDFA        -> device_id   (key, SCREAMING)
--   $.remote_host -> ip_address  (value, compressed IPv6)
UPDATE public.dead_events
   SET raw_payload = raw_payload || '{"IDFA": "E621E1F8-C36C-495A-93FC-0C247A3E6E5F",
                                      "remote_host": "2607:f8b0:4005:80b::200e"}'
 WHERE id = 299;

-- ledger 5: $.billing_email -> email  (key+value, prefixed, depth 0)
UPDATE public.revenue_ledger
   SET metadata = metadata || '{"billing_email": "katherine.j@example.com"}'
 WHERE id = 5;

-- ledger 60:
--   $.bill_to.surname -> person_name     (key)
--   $.bill_to.address -> street_address  (key)
UPDATE public.revenue_ledger
   SET metadata = metadata || '{"bill_to": {"surname": "Johnson", "address": "1 Infinite Loop, Cupertino", "country": "US"}}'
 WHERE id = 60;

-- ledger 140: $.payment.creditCard -> credit_card  (key+value, camelCase, Amex 378282246310005)
UPDATE public.revenue_ledger
   SET metadata = metadata || '{"payment": {"method": "card", "creditCard": "378282246310005"}}'
 WHERE id = 140;

-- ledger 222: $.refund_note -> phone  (value, "415-555-0199")
UPDATE public.revenue_ledger
   SET metadata = metadata || '{"refund_note": "customer called from 415-555-0199 about the refund"}'
 WHERE id = 222;

-- ledger 333:
--   $.payer.iban       -> iban           (key+value, NL91ABNA0417164300)
--   $.payer.birth_date -> date_of_birth  (key, tokens birth|date -> "birthdate")
--   $.payer.ZIP        -> postal_code    (key, upper case)
UPDATE public.revenue_ledger
   SET metadata = metadata || '{"payer": {"iban": "NL91ABNA0417164300", "birth_date": "1972-11-30", "ZIP": "10001"}}'
 WHERE id = 333;

-- ledger 444: $.tags[2] -> credit_card  (value, Discover 6011111111111117, inside an array)
UPDATE public.revenue_ledger
   SET metadata = jsonb_set(metadata, '{tags}', metadata -> 'tags' || '["ref 6011111111111117"]')
 WHERE id = 444;

-- ledger 555:
--   $.ip    -> ip_address  (key+value, IPv4, depth 0)
--   $.cc[0] -> email       (value, inside an array under an innocent key)
UPDATE public.revenue_ledger
   SET metadata = metadata || '{"ip": "81.2.69.142", "cc": ["ops@example.com"]}'
 WHERE id = 555;

-- ---------------------------------------------------------------------------------------------------------------
-- 4. Tempting negatives: PII-like keys whose values must NOT produce findings (empty, null, boolean, masked,
--    hashed), and keys that only contain a dictionary word as a non-trailing token.
-- ---------------------------------------------------------------------------------------------------------------

-- ae 135 (stripe): empty / null / false / masked / hashed values under PII keys.
UPDATE public.attribution_events
   SET raw_payload = jsonb_set(raw_payload || jsonb_build_object('customer_details', jsonb_build_object(
           'email', '',                                              -- empty string
           'email_hash', pg_temp.hx('neg-email-hash', 64),           -- key is not a dictionary entry
           'ssn', '***-**-1234',                                     -- masked
           'username', 'coolcat',                                    -- whole-token match only
           'timezone', 'Europe/Paris')),                             -- whole-token match only
       '{data,object,billing_details}', '{"email": null, "phone": false, "name": null}')  -- null, boolean
 WHERE id = md5('ae135')::uuid;

-- ae 149 (meta_capi): hashed / masked values under PII keys.
UPDATE public.attribution_events
   SET raw_payload = jsonb_set(raw_payload, '{data,0,user_data,email}', to_jsonb(pg_temp.hx('neg-email-sha', 64)))
                     || '{"contact": {"email": "j***@exa***", "email_verified": true}}'   -- sha256 hex; masked
 WHERE id = md5('ae149')::uuid;

-- ledger 600: empty / boolean values under PII keys.
UPDATE public.revenue_ledger
   SET metadata = metadata || '{"customer": {"email": "", "phone": false, "zip": null, "timezone": "Europe/Paris"}}'
 WHERE id = 600;

COMMIT;

ANALYZE public.attribution_events, public.dead_events, public.revenue_ledger;

-- Benchmark data for pii-auditd: one attribution_events surface of N realistic webhook payloads, generated
-- server-side (no client round trips), plus the exact ground truth of the PII planted in 1% of the rows.
--
--   psql -X -v ON_ERROR_STOP=1 -v rows=1000000 -v schema=bench -f bench/gen.sql
--
-- Creates (dropping any previous one) schema :schema with
--   :schema.attribution_events (id bigint PRIMARY KEY, raw_payload jsonb NOT NULL)
--   :schema.truth (id bigint, json_path text, category text)   -- one row per planted finding
-- Payloads average ~2.8 KB of JSON text: Stripe / Shopify / Segment / Google Ads / Meta CAPI shapes behind a common
-- delivery envelope, with nested objects, line-item arrays, utm parameters, user agents, ms timestamps, uuids and
-- digests. Rows with id % 100 = 42 carry PII from one of 20 variants ((id / 100) % 20) covering every category,
-- by key and by value, at depth 0 to 4, in arrays, with key spellings from snake_case to kebab-case.
-- Deterministic: no random(); everything derives from the row id through md5, so a given N always gives the same
-- rows. Paths in truth follow pii-auditd's JSONPath: $.a.b[2], $["non-identifier"], $.map.<email> for PII keys.
-- Everything outside the planted fragments is clean by the detection spec (see tests/data/demo-data.sql).

\set ON_ERROR_STOP on
\if :{?rows}
\else
\set rows 100000
\endif
\if :{?schema}
\else
\set schema bench
\endif
SET client_min_messages = warning;
SET work_mem = '64MB';
SET maintenance_work_mem = '512MB';

DROP SCHEMA IF EXISTS :"schema" CASCADE;
CREATE SCHEMA :"schema";
CREATE TABLE :"schema".attribution_events (id bigint NOT NULL, raw_payload jsonb NOT NULL);
CREATE TABLE :"schema".truth (id bigint NOT NULL, json_path text NOT NULL, category text NOT NULL);

-- ---------------------------------------------------------------------------------------------------------------
-- Pools: the bulky repeated parts (line items, product lists, touchpoints) are built once, 1000 variants, and
-- picked by id % 1000; per-row parts (ids, timestamps, amounts, digests) are computed inline.
-- ---------------------------------------------------------------------------------------------------------------
CREATE TEMP TABLE bp (p int PRIMARY KEY, title text, sku text, vendor text, category text, cents int, grams int);
INSERT INTO bp VALUES
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
    (11, 'Down Vest Recycled',        'DVR-BLK-M',   'Fjellstad',     'Outerwear',   17900, 350),
    (12, 'Sun Hoodie UPF50',          'SHU-SKY-L',   'Northpeak',     'Tops',         6900, 190),
    (13, 'Compression Sacks (set)',   'CSS-3PK',     'Summitline',    'Gear',         3900, 150),
    (14, 'Approach Shoe Mid',         'ASM-GRN-44',  'Northpeak',     'Footwear',    16500, 910),
    (15, 'Gift Card',                 'GIFT-50',     'Northpeak',     'Gift Cards',   5000,   0);

CREATE TEMP TABLE pool AS
SELECT k,
       (ARRAY[
         'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.130 Safari/537.36',
         'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1',
         'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2.1 Safari/605.1.15',
         'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.6167.101 Mobile Safari/537.36',
         'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0',
         'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.6045.199 Safari/537.36 Edg/119.0.2151.97'
       ])[1 + k % 6] AS ua,
       (ARRAY['spring_sale_2024', 'brand_search', 'retargeting_7d', 'new_arrivals', 'free_shipping_weekend',
              'pmax_outdoor'])[1 + k % 6] AS campaign,
       (ARRAY['google', 'facebook', 'newsletter', 'instagram', 'bing', 'tiktok', 'direct'])[1 + k % 7] AS src,
       (ARRAY['cpc', 'paid_social', 'email', 'paid_social', 'cpc', 'paid_social', 'none'])[1 + k % 7] AS medium,
       li.items, li.subtotal, li.grams, li.first_title, sg.products, sg.seg_total, tp.touchpoints, mc.content_ids,
       mc.contents
  FROM generate_series(0, 999) k
 CROSS JOIN LATERAL (
        SELECT json_agg(json_build_object(
                   'id', 13000000000 + k * 10 + j,
                   'product_id', 7300000000 + p.p,
                   'variant_id', 41000000000 + p.p * 100 + k % 7,
                   'title', p.title,
                   'variant_title', (ARRAY['S / Black', 'M / Blue', 'L / Olive', 'One Size'])[1 + (k + j) % 4],
                   'sku', p.sku,
                   'vendor', p.vendor,
                   'product_type', p.category,
                   'quantity', 1 + (k + j) % 3,
                   'price', to_char(p.cents / 100.0, 'FM999990.00'),
                   'total_discount', '0.00',
                   'grams', p.grams,
                   'requires_shipping', p.grams > 0,
                   'taxable', true,
                   'gift_card', p.p = 15,
                   'fulfillable_quantity', 1 + (k + j) % 3,
                   'fulfillment_service', 'manual',
                   'fulfillment_status', NULL,
                   'properties', '[]'::json,
                   'tax_lines', json_build_array(json_build_object(
                       'title', 'State Tax', 'rate', 0.0725, 'channel_liable', false,
                       'price', to_char(p.cents * (1 + (k + j) % 3) * 725 / 1000000.0, 'FM999990.00'))),
                   'discount_allocations', '[]'::json) ORDER BY j) AS items,
               sum(p.cents * (1 + (k + j) % 3)) AS subtotal,
               sum(p.grams * (1 + (k + j) % 3)) AS grams,
               min(p.title) FILTER (WHERE j = 0) AS first_title
          FROM generate_series(0, k % 4) j
          JOIN bp p ON p.p = (k * 3 + j * 5) % 16) li
 CROSS JOIN LATERAL (
        SELECT json_agg(json_build_object(
                   'product_id', 'prod_' || (7300000000 + p.p),
                   'sku', p.sku,
                   'name', p.title,
                   'brand', p.vendor,
                   'category', p.category,
                   'price', round(p.cents / 100.0, 2),
                   'quantity', 1 + (k + j) % 3,
                   'position', j + 1,
                   'url', 'https://shop.northpeak.example/products/' || lower(p.sku)) ORDER BY j) AS products,
               sum(p.cents * (1 + (k + j) % 3)) AS seg_total
          FROM generate_series(0, k % 4) j
          JOIN bp p ON p.p = (k * 5 + j * 7) % 16) sg
 CROSS JOIN LATERAL (
        SELECT json_agg(json_build_object(
                   'offset_s', -(4 - j) * 3600,
                   'channel', (ARRAY['organic_search', 'paid_search', 'email', 'direct', 'paid_social'])[1 + (k + j) % 5],
                   'campaign', (ARRAY['spring_sale_2024', 'brand_search', 'retargeting_7d', 'new_arrivals'])[1 + (k + j) % 4],
                   'landing_path', '/collections/' || (ARRAY['trail', 'rain', 'packs', 'socks'])[1 + (k + j) % 4],
                   'weight', round(1.0 / (2 + k % 3), 4)) ORDER BY j) AS touchpoints
          FROM generate_series(0, 1 + k % 3) j) tp
 CROSS JOIN LATERAL (
        SELECT json_agg(p.sku ORDER BY j) AS content_ids,
               json_agg(json_build_object('id', p.sku, 'quantity', 1 + j % 2, 'item_price', round(p.cents / 100.0, 2)) ORDER BY j) AS contents
          FROM generate_series(0, 1 + k % 4) j
          JOIN bp p ON p.p = (k + j * 5) % 16) mc;
ALTER TABLE pool ADD PRIMARY KEY (k);

-- ---------------------------------------------------------------------------------------------------------------
-- Planted PII variants. frag is a JSON text with placeholders filled per row ({ID}, {D4}: 4 digits 1000-9999,
-- {O1} {O2}: IPv4 octets 1-250, {H2}: 2 hex digits, {H4}: 1-4 hex digits, {UU}: upper-case uuid); set_path NULL
-- means "merge at the top level", else jsonb_set at that path. paths / cats: the exact expected findings.
-- ---------------------------------------------------------------------------------------------------------------
CREATE TEMP TABLE variants (v int PRIMARY KEY, set_path text[], frag text, paths text[], cats text[]);
INSERT INTO variants VALUES
 (0,  NULL, '{"email": "u{ID}@example.com"}',
      '{$.email}', '{email}'),
 (1,  '{_envelope,headers,x-forwarded-for}', '"81.2.{O1}.{O2}"',
      '{"$._envelope.headers[\"x-forwarded-for\"]"}', '{ip_address}'),
 (2,  NULL, '{"customer": {"id": {ID}, "first_name": "Ada", "last_name": "Lovelace", "phone": "+1415555{D4}"}}',
      '{$.customer.first_name,$.customer.last_name,$.customer.phone}', '{person_name,person_name,phone}'),
 (3,  NULL, '{"shipping_address": {"line1": "742 Evergreen Terrace", "city": "Springfield", "zip": "97403", "country_code": "US"}}',
      '{$.shipping_address,$.shipping_address.zip}', '{street_address,postal_code}'),
 (4,  NULL, '{"note": "call me at (415) 555-{D4} after 5pm"}',
      '{$.note}', '{phone}'),
 (5,  NULL, '{"payment": {"method": "card", "card": {"cardNumber": "4111111111111111", "brand": "visa"}}}',
      '{$.payment.card.cardNumber}', '{credit_card}'),
 (6,  NULL, '{"refund": {"lines": [{"memo": "restocking fee waived"}, {"memo": "paid with 5500-0000-0000-0004"}]}}',
      '{$.refund.lines[1].memo}', '{credit_card}'),
 (7,  NULL, '{"kyc": {"status": "verified", "ssn": "536-22-{D4}", "dob": "1985-04-12"}}',
      '{$.kyc.ssn,$.kyc.dob}', '{national_id,date_of_birth}'),
 (8,  NULL, '{"payout": {"schedule": "weekly", "iban": "DE89370400440532013000"}}',
      '{$.payout.iban}', '{iban}'),
 (9,  NULL, '{"app": {"build": "4.12.0", "device": {"idfa": "{UU}", "location": {"lat": 48.8566, "lng": 2.3522}}}}',
      '{$.app.device.idfa,$.app.device.location}', '{device_id,geolocation}'),
 (10, NULL, '{"recipients": {"r{ID}@example.org": {"status": "sent", "opened": false}}}',
      '{$.recipients.<email>}', '{email}'),
 (11, NULL, '{"devices": [{"kind": "router", "mac_address": "00:1A:2B:3C:4D:{H2}"}]}',
      '{$.devices[0].mac_address}', '{mac_address}'),
 (12, '{_envelope,delivery,client_ip}', '"2a03:2880:f12f:83:face:b00c:0:{H4}"',
      '{$._envelope.delivery.client_ip}', '{ip_address}'),
 (13, NULL, '{"PHONE_NUMBER": "+44 20 7946 {D4}"}',
      '{$.PHONE_NUMBER}', '{phone}'),
 (14, NULL, '{"contacts": [{"type": "billing"}, {"type": "owner", "emailAddress": "c{ID}@example.net"}]}',
      '{$.contacts[1].emailAddress}', '{email}'),
 (15, NULL, '{"comment": "wire the balance to GB82WEST12345698765432 please"}',
      '{$.comment}', '{iban}'),
 (16, NULL, '{"billing": {"customer-full-name": "Alan Turing", "postal_code": "94043"}}',
      '{"$.billing[\"customer-full-name\"]",$.billing.postal_code}', '{person_name,postal_code}'),
 (17, NULL, '{"profile": {"email": null, "phone": false, "email_verified": true, "username": "coolcat", "ssn": "***-**-1234", "email_hash": "8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4", "gaid": "38400000-8cf0-11bd-b23e-10b96e40000d"}}',
      '{$.profile.gaid}', '{device_id}'),
 (18, NULL, '{"audit": {"events": [{"action": "login", "actor": {"role": "owner", "ip": "24.48.{O1}.{O2}"}}]}}',
      '{$.audit.events[0].actor.ip}', '{ip_address}'),
 (19, NULL, '{"birth_date": "1972-11-30", "street_address": "1600 Amphitheatre Parkway", "timezone": "Europe/Paris"}',
      '{$.birth_date,$.street_address}', '{date_of_birth,street_address}');

-- ---------------------------------------------------------------------------------------------------------------
-- The rows. x: 128 hex chars per row with digit runs cut at 9 (ids and digests are cut from it, so no generated
-- token can look like a card or phone number); t: event time in seconds.
-- ---------------------------------------------------------------------------------------------------------------
\echo generating :rows rows into :schema.attribution_events
\timing on
INSERT INTO :"schema".attribution_events (id, raw_payload)
SELECT id,
       CASE WHEN pv.v IS NULL THEN doc::jsonb
            WHEN pv.set_path IS NULL THEN doc::jsonb || pv.filled::jsonb
            ELSE jsonb_set(doc::jsonb, pv.set_path, pv.filled::jsonb) END
FROM (
-- Built as json (text, cheap to nest) and converted to jsonb once per row: nesting jsonb_build_object would
-- re-encode every nested level and is several times slower.
SELECT g.id,
   CASE g.kind
   -- Stripe-like charge event
   WHEN 0 THEN json_build_object(
       '_envelope', g.env,
       'id', 'evt_3' || substr(g.y, 1, 24),
       'object', 'event',
       'api_version', '2023-10-16',
       'created', g.t,
       'type', (ARRAY['charge.succeeded', 'charge.captured', 'charge.updated', 'charge.refunded'])[1 + g.id % 4],
       'livemode', g.id % 3 <> 0,
       'pending_webhooks', 1 + g.id % 2,
       'request', json_build_object('id', 'req_' || substr(g.y, 25, 14), 'idempotency_key', g.u1),
       'data', json_build_object('object', json_build_object(
           'id', 'ch_3' || substr(g.y, 39, 24),
           'object', 'charge',
           'amount', g.amt, 'amount_captured', g.amt,
           'amount_refunded', CASE WHEN g.id % 4 = 3 THEN g.amt ELSE 0 END,
           'application', NULL, 'application_fee', NULL, 'application_fee_amount', NULL,
           'balance_transaction', 'txn_3' || substr(g.y, 63, 24),
           'billing_details_collected', false,
           'calculated_statement_descriptor', 'NORTHPEAK OUTFITTERS',
           'captured', true,
           'created', g.t - 2,
           'currency', (ARRAY['usd', 'usd', 'eur', 'gbp', 'cad'])[1 + g.id % 5],
           'customer', 'cus_' || substr(g.y, 87, 14),
           'description', 'Order #' || (1000 + g.id),
           'disputed', false, 'failure_balance_transaction', NULL, 'failure_code', NULL, 'failure_message', NULL,
           'fraud_details', '{}'::json,
           'invoice', NULL, 'on_behalf_of', NULL, 'order', NULL, 'review', NULL, 'source_transfer', NULL,
           'transfer_data', NULL, 'transfer_group', NULL,
           'paid', true,
           'payment_intent', 'pi_3' || substr(g.y, 101, 24),
           'payment_method', 'pm_1' || substr(g.y, 5, 24),
           'payment_method_details', json_build_object('type', 'card', 'card', json_build_object(
               'amount_authorized', g.amt,
               'brand', (ARRAY['visa', 'mastercard', 'amex', 'visa'])[1 + g.id % 4],
               'last4', lpad((g.id * 37 % 10000)::text, 4, '0'),
               'exp_month', 1 + g.id % 12, 'exp_year', 2025 + g.id % 5,
               'funding', (ARRAY['credit', 'debit'])[1 + g.id % 2],
               'country', (ARRAY['US', 'DE', 'GB', 'CA'])[1 + g.id % 4],
               'fingerprint', substr(g.y, 70, 16),
               'network', (ARRAY['visa', 'mastercard', 'amex', 'visa'])[1 + g.id % 4],
               'three_d_secure', NULL, 'wallet', NULL,
               'checks', json_build_object('cvc_check', 'pass', 'address_line1_check', NULL,
                                            'address_postal_code_check', 'pass'))),
           'radar_options', '{}'::json,
           'receipt_email', NULL, 'receipt_number', NULL,
           'receipt_url', 'https://pay.stripe.com/receipts/payment/' || substr(g.y, 11, 64),
           'refunded', g.id % 4 = 3,
           'statement_descriptor', 'NORTHPEAK OUTFITTERS', 'statement_descriptor_suffix', NULL,
           'status', 'succeeded',
           'metadata', json_build_object('order_id', (1000 + g.id)::text, 'cart_id', g.u2,
                                          'utm_source', p.src, 'utm_medium', p.medium, 'utm_campaign', p.campaign,
                                          'platform', 'shopify', 'shop', 'northpeak-outfitters.myshopify.com'),
           'outcome', json_build_object('network_status', 'approved_by_network', 'reason', NULL,
                                         'risk_level', (ARRAY['normal', 'normal', 'elevated'])[1 + g.id % 3],
                                         'risk_score', g.id * 13 % 70, 'seller_message', 'Payment complete.',
                                         'type', 'authorized'),
           'refunds', json_build_object('object', 'list', 'data', '[]'::json, 'has_more', false, 'total_count', 0,
                                         'url', '/v1/charges/ch_3' || substr(g.y, 39, 24) || '/refunds'))))
   -- Shopify-like orders/create webhook
   WHEN 1 THEN json_build_object(
       '_envelope', g.env,
       'id', 5400000000 + g.id,
       'admin_graphql_api_id', 'gid://shopify/Order/' || (5400000000 + g.id),
       'name', '#' || (1000 + g.id),
       'order_number', 1000 + g.id,
       'token', substr(g.x, 1, 32),
       'cart_token', substr(g.y, 33, 26),
       'checkout_token', substr(g.x, 33, 32),
       'checkout_id', 33000000000 + g.id,
       'confirmation_number', upper(substr(g.y, 60, 9)),
       'created_at', g.iso,
       'updated_at', g.iso,
       'processed_at', g.iso,
       'currency', 'USD', 'presentment_currency', 'USD',
       'financial_status', (ARRAY['paid', 'paid', 'authorized', 'partially_refunded'])[1 + g.id % 4],
       'fulfillment_status', CASE WHEN g.id % 3 = 0 THEN 'fulfilled' END,
       'subtotal_price', to_char(p.subtotal / 100.0, 'FM99999990.00'),
       'total_tax', to_char(p.subtotal * 725 / 1000000.0, 'FM99999990.00'),
       'total_price', to_char((p.subtotal + p.subtotal * 725 / 10000 + 500) / 100.0, 'FM99999990.00'),
       'total_price_set', json_build_object(
           'shop_money', json_build_object('amount', to_char((p.subtotal + 500) / 100.0, 'FM99999990.00'), 'currency_code', 'USD'),
           'presentment_money', json_build_object('amount', to_char((p.subtotal + 500) / 100.0, 'FM99999990.00'), 'currency_code', 'USD')),
       'total_weight', p.grams,
       'taxes_included', false,
       'source_name', (ARRAY['web', 'web', 'shopify_draft_order', 'pos'])[1 + g.id % 4],
       'landing_site', '/products/' || lower(replace(p.first_title, ' ', '-')) || '?utm_source=' || p.src ||
                       '&utm_medium=' || p.medium || '&utm_campaign=' || p.campaign,
       'referring_site', (ARRAY['https://www.google.com/', 'https://l.facebook.com/', '', 'https://www.instagram.com/'])[1 + g.id % 4],
       'tags', (ARRAY['', 'wholesale', 'vip, repeat', ''])[1 + g.id % 4],
       'test', false,
       'buyer_accepts_marketing', g.id % 2 = 0,
       'email_marketing_consent', json_build_object('state', 'not_subscribed', 'opt_in_level', 'single_opt_in',
                                                     'consent_updated_at', NULL),
       'discount_codes', '[]'::json,
       'line_items', p.items,
       'shipping_lines', json_build_array(json_build_object('code', 'Standard', 'title', 'Standard Shipping',
                                                              'price', '5.00', 'source', 'shopify',
                                                              'carrier_identifier', NULL)),
       'fulfillments', CASE WHEN g.id % 3 = 0 THEN json_build_array(json_build_object(
           'id', 4100000000 + g.id, 'status', 'success', 'tracking_company', 'UPS',
           'tracking_number', '1Z999AA10123456784',
           'tracking_url', 'https://www.ups.com/track?loc=en_US&tracknum=1Z999AA10123456784',
           'created_at', g.iso)) ELSE '[]'::json END,
       'note_attributes', json_build_array(json_build_object('name', 'gift_wrap', 'value', (ARRAY['no', 'yes'])[1 + g.id % 2]),
                                            json_build_object('name', 'sales_channel', 'value', 'online_store')),
       'client_details', json_build_object('accept_language', 'en-US,en;q=0.9', 'browser_height', 700 + g.id % 300,
                                            'browser_width', 1200 + g.id % 700, 'session_hash', substr(g.x, 65, 32),
                                            'user_agent', p.ua))
   -- Segment-like track event
   WHEN 2 THEN json_build_object(
       '_envelope', g.env,
       'type', 'track',
       'event', (ARRAY['Order Completed', 'Product Viewed', 'Checkout Started', 'Product Added'])[1 + g.id % 4],
       'messageId', 'ajs-next-' || substr(g.x, 1, 32),
       'anonymousId', g.u1,
       'userId', 'usr_' || substr(g.y, 1, 20),
       'timestamp', g.iso, 'originalTimestamp', g.iso, 'sentAt', g.iso, 'receivedAt', g.iso,
       'version', 2, 'channel', 'client',
       'writeKey', substr(g.y, 21, 32),
       'context', json_build_object(
           'library', json_build_object('name', 'analytics.js', 'version', 'next-1.64.0'),
           'locale', (ARRAY['en-US', 'de-DE', 'en-GB', 'fr-FR'])[1 + g.id % 4],
           'timezone', (ARRAY['America/New_York', 'Europe/Berlin', 'Europe/London', 'Europe/Paris'])[1 + g.id % 4],
           'userAgent', p.ua,
           'userAgentData', json_build_object(
               'brands', json_build_array(json_build_object('brand', 'Chromium', 'version', '120'),
                                           json_build_object('brand', 'Not_A Brand', 'version', '8')),
               'mobile', false, 'platform', 'Windows'),
           'os', json_build_object('name', 'Windows', 'version', '10.0.19041.1'),
           'screen', json_build_object('width', 1920, 'height', 1080, 'density', 1),
           'page', json_build_object(
               'path', '/checkout/thank-you', 'referrer', 'https://www.google.com/',
               'search', '?utm_source=' || p.src || '&utm_medium=' || p.medium || '&utm_campaign=' || p.campaign,
               'title', 'Thank you - Northpeak Outfitters',
               'url', 'https://shop.northpeak.example/checkout/thank-you?utm_source=' || p.src || '&utm_medium=' ||
                      p.medium || '&utm_campaign=' || p.campaign),
           'campaign', json_build_object('name', p.campaign, 'source', p.src, 'medium', p.medium,
                                          'term', 'trail running shoes', 'content', 'ad_variant_b')),
       'properties', json_build_object(
           'order_id', (1000 + g.id)::text, 'checkout_id', substr(g.x, 33, 24), 'affiliation', 'Online Store',
           'total', round((p.seg_total + 500) / 100.0, 2), 'revenue', round(p.seg_total / 100.0, 2),
           'shipping', 5.00, 'tax', round(p.seg_total * 725 / 1000000.0, 2), 'discount', 0, 'coupon', NULL,
           'currency', 'USD', 'products', p.products),
       'integrations', json_build_object('All', true, 'Google Analytics',
           json_build_object('clientId', (100000000 + g.id * 7919 % 900000000)::text || '.' || g.t::text)))
   -- Google-Ads-like click / attribution record
   WHEN 3 THEN json_build_object(
       '_envelope', g.env,
       'event', 'ad_click', 'platform', 'google_ads',
       'click_id', g.u1,
       'gclid', 'Cj0KCQiA' || substr(g.y, 1, 56) || '_BwE',
       'ts_ms', g.t * 1000 + g.id * 37 % 1000,
       'campaign', json_build_object(
           'id', (2000000000 + g.id % 40)::text, 'name', p.campaign,
           'ad_group_id', (1300000000 + g.id % 120)::text, 'creative_id', (6800000000 + g.id % 300)::text,
           'keyword', (ARRAY['trail running shoes', 'rain jacket', 'daypack', 'merino socks'])[1 + g.id % 4],
           'match_type', (ARRAY['phrase', 'exact', 'broad'])[1 + g.id % 3],
           'network', (ARRAY['search', 'display', 'youtube'])[1 + g.id % 3]),
       'utm', json_build_object('utm_source', 'google', 'utm_medium', 'cpc', 'utm_campaign', p.campaign,
                                 'utm_term', 'trail+running+shoes', 'utm_content', 'rsa_' || (1 + g.id % 9)),
       'landing_page', 'https://shop.northpeak.example/collections/trail?utm_source=google&utm_medium=cpc&utm_campaign=' ||
                       p.campaign || '&gclid=Cj0KCQiA' || substr(g.y, 1, 56) || '_BwE',
       'referrer', 'https://www.google.com/',
       'user_agent', p.ua,
       'device', json_build_object(
           'type', (ARRAY['mobile', 'desktop', 'tablet'])[1 + g.id % 3],
           'os', (ARRAY['Android', 'Windows', 'iPadOS'])[1 + g.id % 3],
           'os_version', (ARRAY['14', '10.0.19041.1', '17.2'])[1 + g.id % 3],
           'browser', 'Chrome',
           'browser_version', (ARRAY['121.0.6167.101', '120.0.6099.130', '120.0.6099.119'])[1 + g.id % 3]),
       'geo', json_build_object('country', 'US', 'region', (ARRAY['CA', 'NY', 'WA', 'TX', 'CO'])[1 + g.id % 5],
                                 'city', (ARRAY['San Jose', 'Brooklyn', 'Seattle', 'Austin', 'Boulder'])[1 + g.id % 5],
                                 'dma', (ARRAY['807', '501', '819', '635', '751'])[1 + g.id % 5]),
       'cost_micros', 150000 + g.id * 7919 % 2500000,
       'currency', 'USD',
       'conversion_value', to_char(g.amt / 100.0, 'FM99999990.00'),
       'attribution', json_build_object('model', 'data_driven', 'window_days', 30, 'anchor_ts_ms', g.t * 1000,
                                         'touchpoints', p.touchpoints),
       'conversion', json_build_object('action', 'purchase', 'order_id', (1000 + g.id)::text,
                                        'items', p.content_ids),
       'integrity', json_build_object('algo', 'sha256', 'digest', substr(g.x, 1, 64)))
   -- Meta-Conversions-API-like event (user data hashed, as Meta requires)
   ELSE json_build_object(
       '_envelope', g.env,
       'data', json_build_array(json_build_object(
           'event_name', (ARRAY['Purchase', 'AddToCart', 'InitiateCheckout'])[1 + g.id % 3],
           'event_time', g.t,
           'event_id', g.u1,
           'action_source', 'website',
           'event_source_url', 'https://shop.northpeak.example/checkout/thank-you?fbclid=IwAR' || substr(g.y, 1, 40),
           'opt_out', false,
           'user_data', json_build_object(
               'client_user_agent', p.ua,
               'fbc', 'fb.1.' || (g.t * 1000) || '.IwAR' || substr(g.y, 1, 40),
               'fbp', 'fb.1.' || ((g.t - 86400) * 1000) || '.' || (1000000000 + g.id * 7919 % 900000000),
               'external_id', json_build_array(substr(g.x, 1, 64)),
               'em', json_build_array(substr(g.x, 65, 64)),
               'ph', json_build_array(substr(g.x, 33, 64))),
           'custom_data', json_build_object(
               'currency', 'USD', 'value', to_char(g.amt / 100.0, 'FM99999990.00'),
               'order_id', (1000 + g.id)::text, 'content_type', 'product',
               'content_ids', p.content_ids, 'contents', p.contents,
               'num_items', json_array_length(p.contents),
               'delivery_category', 'home_delivery'),
           'data_processing_options', '[]'::json)),
       'partner_agent', 'northpeak-capi-1.4.2',
       'test_event_code', NULL,
       'attribution', json_build_object('touchpoints', p.touchpoints, 'campaign', p.campaign),
       'signature', 'sha256=' || substr(g.x, 1, 64))
   END
   AS doc
  FROM (SELECT g0.*,
               json_build_object(   -- the delivery envelope every webhook gets
                   'source', (ARRAY['stripe', 'shopify', 'segment', 'google_ads', 'meta_capi'])[1 + g0.kind],
                   'received_at', g0.iso,
                   'delivery_id', g0.u2,
                   'headers', json_build_object(
                       'content-type', 'application/json',
                       'user-agent', (ARRAY['Stripe/1.0 (+https://stripe.com/docs/webhooks)', 'Shopify-Captain-Hook',
                                            'Segment.io/1.0', 'Google-Ads-Conversions/2.1',
                                            'facebookexternalua'])[1 + g0.kind],
                       'x-request-id', g0.u3,
                       'x-signature', 't=' || g0.t || ',v1=' || substr(g0.x, 65, 64)),
                   'delivery', json_build_object('attempt', 1 + g0.id % 3, 'queue', 'ingest-high',
                                                 'schema_version', 3)) AS env
          FROM (SELECT id,
               (id + id / 100) % 5 AS kind,
               (1709251200 + id * 3)::bigint AS t,
               to_char(timestamp '1970-01-01' + (1709251200 + id * 3) * interval '1 second',
                       'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS iso,
               500 + id * 7919 % 150000 AS amt,
               md5(id::text)::uuid::text AS u1,
               md5('cart' || id)::uuid::text AS u2,
               md5('req' || id)::uuid::text AS u3,
               x,
               translate(x, '0a1b2c3d', 'QkRmTxVz') AS y
          FROM (SELECT id, regexp_replace(md5(id::text || 'a') || md5(id::text || 'b') || md5(id::text || 'c') ||
                                          md5(id::text || 'd'), '([0-9]{9})[0-9]', '\1e', 'g') AS x
                  FROM generate_series(1::bigint, :rows) id
                OFFSET 0) s          -- OFFSET 0: keep the subquery, so x is computed once per row, not per use
         OFFSET 0) g0
 OFFSET 0) g
  JOIN pool p ON p.k = g.id % 1000
) r
LEFT JOIN LATERAL (
    SELECT v.v, v.set_path,
           replace(replace(replace(replace(replace(replace(replace(v.frag,
               '{ID}', r.id::text),
               '{D4}', (1000 + r.id % 9000)::text),
               '{O1}', (1 + r.id % 250)::text),
               '{O2}', (1 + r.id / 250 % 250)::text),
               '{H2}', lpad(to_hex(r.id % 256), 2, '0')),
               '{H4}', to_hex(1 + r.id % 65535)),
               '{UU}', upper(md5('idfa' || r.id)::uuid::text)) AS filled
      FROM variants v
     WHERE r.id % 100 = 42 AND v.v = (r.id / 100) % 20) pv ON true;

INSERT INTO :"schema".truth (id, json_path, category)
SELECT id, u.path, u.cat
  FROM generate_series(42, :rows, 100) id
  JOIN variants v ON v.v = (id / 100) % 20
 CROSS JOIN LATERAL unnest(v.paths, v.cats) AS u(path, cat);

ALTER TABLE :"schema".attribution_events ADD PRIMARY KEY (id);
CREATE INDEX ON :"schema".truth (id);
\timing off

SELECT count(*) AS rows,
       round(avg(length(raw_payload::text))) AS avg_payload_bytes,
       round(sum(length(raw_payload::text)) / 1e6, 1) AS json_text_mb,
       pg_size_pretty(pg_total_relation_size(:'schema' || '.attribution_events')) AS table_size
  FROM :"schema".attribution_events;
SELECT count(DISTINCT id) AS planted_rows, count(*) AS planted_findings FROM :"schema".truth;
SELECT category, count(*) AS findings FROM :"schema".truth GROUP BY category ORDER BY category;

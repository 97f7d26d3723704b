-- Sanity check of the demo data against its ground truth (run after demo-data.sql, from the repository root):
--   psql -X -v ON_ERROR_STOP=1 -f tests/data/demo-check.sql [-v expected=path/to/demo-expected.tsv]
-- Checks that every (table, record, JSON path) in demo-expected.tsv exists in the loaded data and holds data
-- (geolocation paths: an object with a lat/lng or latitude/longitude pair), that the row counts and the NULL /
-- JSON-null ledger rows are as documented. It checks the data, not pii-auditd: it never runs the scanner.
\set ON_ERROR_STOP on
\if :{?expected}
\else
\set expected tests/data/demo-expected.tsv
\endif

CREATE TEMP TABLE demo_expected (table_name text, record_id text, json_path text, category text);
-- \copy does not expand variables: build the command, then run it.
\set copy_expected '\\copy demo_expected FROM ' :'expected'
:copy_expected

-- The same documents, one row per (table, record id).
CREATE TEMP VIEW demo_docs AS
    SELECT 'public.attribution_events' AS table_name, id::text AS record_id, raw_payload AS doc
      FROM public.attribution_events
    UNION ALL
    SELECT 'public.dead_events', id::text, raw_payload FROM public.dead_events
    UNION ALL
    SELECT 'public.revenue_ledger', id::text, metadata FROM public.revenue_ledger;

-- JSONPath of the TSV -> PostgreSQL jsonpath: ["k"] -> ."k"; a redacted key <category> -> any member (.*).
CREATE TEMP VIEW demo_check AS
SELECT e.*,
       jp,
       (SELECT array_agg(v) FROM jsonb_path_query(d.doc, jp::jsonpath) v) AS vals
  FROM demo_expected e
  LEFT JOIN demo_docs d USING (table_name, record_id)
 CROSS JOIN LATERAL (SELECT regexp_replace(regexp_replace(e.json_path, '\["((?:[^"\\]|\\.)*)"\]', '."\1"', 'g'),
                                           '\.<[a-z_]+>', '.*', 'g') AS jp) p;

SELECT table_name, record_id, json_path, category,
       CASE WHEN vals IS NULL THEN 'MISSING'
            WHEN category = 'geolocation' AND NOT (
                 (vals[1] ? 'lat' AND vals[1] ? 'lng') OR (vals[1] ? 'latitude' AND vals[1] ? 'longitude'))
                 THEN 'NO LAT/LNG PAIR'
            WHEN json_path ~ '<email>' AND NOT EXISTS (
                 SELECT 1 FROM jsonb_path_query(d.doc, regexp_replace(jp, '\.\*$', '')::jsonpath) o,
                        jsonb_object_keys(o) k WHERE k LIKE '%@%.%')
                 THEN 'NO EMAIL KEY'
            WHEN vals[1] IN ('null', 'false', 'true', '""', '{}', '[]') THEN 'NO DATA: ' || vals[1]::text
            ELSE 'ok' END AS status
  INTO TEMP demo_status
  FROM demo_check c
  LEFT JOIN demo_docs d USING (table_name, record_id);

SELECT status, count(*) FROM demo_status GROUP BY status ORDER BY status;
SELECT * FROM demo_status WHERE status <> 'ok';
SELECT category, count(*) AS expected_findings FROM demo_expected GROUP BY category ORDER BY category;

DO $$
DECLARE bad int; n_ae int; n_de int; n_rl int; n_null int; n_jnull int;
BEGIN
    SELECT count(*) INTO bad FROM demo_status WHERE status <> 'ok';
    SELECT count(*) INTO n_ae FROM public.attribution_events;
    SELECT count(*) INTO n_de FROM public.dead_events;
    SELECT count(*), count(*) FILTER (WHERE metadata IS NULL), count(*) FILTER (WHERE metadata = 'null'::jsonb)
      INTO n_rl, n_null, n_jnull FROM public.revenue_ledger;
    IF bad > 0 OR n_ae <> 1000 OR n_de <> 300 OR n_rl <> 700 OR n_null <> 7 OR n_jnull <> 7 THEN
        RAISE EXCEPTION 'demo data check failed: % bad expected paths; rows % / % / % (want 1000 / 300 / 700); '
                        'ledger SQL NULL %, JSON null % (want 7, 7)', bad, n_ae, n_de, n_rl, n_null, n_jnull;
    END IF;
    RAISE NOTICE 'demo data ok: % expected findings all present', (SELECT count(*) FROM demo_expected);
END $$;

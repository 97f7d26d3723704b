-- Remove the pii-auditd write-time guardrail (Layer 2): every trigger it installed (they depend on
-- pii_guardrail.enforce()), its functions, its registry and its reject counters.
--   psql -v ON_ERROR_STOP=1 -d DB -f /usr/share/pii-auditd/sql/guardrail_uninstall.sql
-- To stop guarding a single column instead, remove it from the configuration and apply the output of
-- pii-auditd --print-guardrail-sql again (or: SELECT pii_guardrail.remove('schema', 'table', 'column');).
-- The daemon then exports no pii_audit_guardrail_rejects_total series.
DROP SCHEMA IF EXISTS pii_guardrail CASCADE;

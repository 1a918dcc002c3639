--
-- vae_cancel: a long training can be canceled (statement_timeout here, the
-- same path as pg_cancel_backend), promptly, and the session goes on.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vae;
RESET client_min_messages;
\set VERBOSITY default

-- 2000 rows x 64 features: 10000 epochs of it (no early stopping) would take
-- many minutes
CREATE TABLE cancel_data AS
SELECT i, ARRAY(SELECT sin(i * 0.37 + j * 1.3)::real FROM generate_series(1, 64) AS j) AS f
FROM generate_series(1, 2000) AS i;

-- canceled in the training loop
SET statement_timeout = '1s';
SELECT length(vae_train(f, '{"epochs": 10000, "patience": 0}')) FROM cancel_data;
RESET statement_timeout;
SELECT 'still working' AS after_cancel;

-- SQLSTATE, and how long the cancel took: run q, catch the cancel, report
CREATE FUNCTION pg_temp.canceled(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz := clock_timestamp();
BEGIN
	EXECUTE q;
	RETURN 'finished';
EXCEPTION WHEN query_canceled THEN
	RETURN SQLSTATE || ': ' || SQLERRM ||
		CASE WHEN clock_timestamp() - t0 < interval '3 s' THEN ' (within 3 s)' ELSE ' (too late)' END;
END $$;

-- in the training loop
SET statement_timeout = '1s';
SELECT pg_temp.canceled($$SELECT vae_train(f, '{"epochs": 10000, "patience": 0}') FROM cancel_data$$);
RESET statement_timeout;

-- after training, while scoring the training rows for vae_threshold (one
-- quick epoch, then 2000 rows x 1024 latent samples through a wide decoder)
SET statement_timeout = '1s';
SELECT pg_temp.canceled($$SELECT vae_train(f, '{"epochs": 1, "hidden": [256], "mc_samples": 1024}') FROM cancel_data$$);
RESET statement_timeout;

-- the backend is fine: a small model trains and scores
SELECT vae_model_info(m)->'rows' AS rows, vae_score(m, f) IS NOT NULL AS scores
FROM (SELECT vae_train(f, '{"epochs": 1}') AS m FROM cancel_data WHERE i <= 100) s,
     cancel_data WHERE i = 1;

--
-- vae_gpu: the GPU worker's settings and the device option, with no worker
-- running (test/integration/gpu_worker.sh runs one).
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vae;
RESET client_min_messages;
-- the settings exist once the library is loaded
LOAD 'vae';

CREATE TABLE gpu_data AS
SELECT i, ARRAY[sin(i)::real, cos(i)::real, (i % 5)::real] AS f
FROM generate_series(1, 100) AS i;

-- the settings a backend has (the supervisor's exist only when vae is in
-- shared_preload_libraries; vae.gpu_secret is never listed; the default of
-- vae.max_train_memory depends on the machine, vae_limits checks it)
SELECT name, setting, unit, context FROM pg_settings
WHERE name LIKE 'vae.%' AND name <> 'vae.max_train_memory' ORDER BY name;
SHOW vae.gpu_worker;
SHOW vae.gpu_secret;

-- the vae.* prefix is reserved: a typo is an error, not a silent placeholder
SET vae.gpu_workers = '/tmp/x';

-- ordinary users can neither read the secret nor choose the worker (the
-- worker's address is where the secret's answer goes)
CREATE ROLE regress_vae_gpu_user;
SET ROLE regress_vae_gpu_user;
SHOW vae.gpu_secret;
SET vae.gpu_secret = 'x';
SET vae.gpu_worker = '/tmp/somewhere/vae_gpud.sock';
SET vae.gpu_tls_ca_file = '/tmp/ca.crt';
SET vae.gpu_connect_timeout = '2s';
SHOW vae.gpu_connect_timeout;
RESET ROLE;
DROP ROLE regress_vae_gpu_user;
RESET vae.gpu_connect_timeout;

-- the TLS CA file is an absolute path (or empty: plain TCP, loopback only)
SET vae.gpu_tls_ca_file = 'ca.crt';
SET vae.gpu_tls_ca_file = '/etc/vae/ca.crt';
SHOW vae.gpu_tls_ca_file;
RESET vae.gpu_tls_ca_file;

-- no worker configured: 'gpu' is an ERROR, 'auto' (the default) and 'cpu'
-- train on the CPU without a word
SELECT vae_train(f, '{"device": "gpu"}') FROM gpu_data;
SELECT vae_model_info(vae_train(f, '{"epochs": 1}'))->>'device' AS device FROM gpu_data;

-- a worker that is not there: 'gpu' is an ERROR, 'auto' says so in a NOTICE
-- and trains on the CPU, 'cpu' never tries
SET vae.gpu_worker = '/nonexistent/vae_gpud.sock';
SELECT vae_train(f, '{"device": "gpu", "epochs": 1}') FROM gpu_data;
SELECT vae_model_info(vae_train(f, '{"epochs": 1}'))->>'device' AS device FROM gpu_data;
SELECT vae_model_info(vae_train(f, '{"epochs": 1, "device": "cpu"}'))->>'device' AS device FROM gpu_data;

-- TCP, with nothing listening
SET vae.gpu_worker = '127.0.0.1:1';
SELECT vae_train(f, '{"device": "gpu", "epochs": 1}') FROM gpu_data;

-- neither a path nor host:port
SET vae.gpu_worker = 'vae_gpud.sock';
SELECT vae_train(f, '{"device": "gpu", "epochs": 1}') FROM gpu_data;
RESET vae.gpu_worker;

-- the session is fine
SELECT count(*) FROM gpu_data;

-- vae--1.0--1.1.sql: upgrade from 1.0 to 1.1 (ALTER EXTENSION vae UPDATE)
\echo Use "ALTER EXTENSION vae UPDATE TO '1.1'" to load this file. \quit

-- Every object 1.1 adds or changes goes here AND into the "1.1" section of
-- vae--1.1.sql, so that a fresh install and an upgraded one hold the same
-- objects (test/integration/upgrade.sh compares them).  Models are bytea
-- values in user tables: nothing here may change how a 1.0 model scores.

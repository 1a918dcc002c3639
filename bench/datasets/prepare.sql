-- bench/datasets/prepare.sql - detect_prepare(table): the "prepared array
-- view" of a data set table loaded by bench/datasets/load.sh.
--
--   psql -f bench/datasets/prepare.sql          (defines the function)
--   SELECT detect_prepare('glass');             (creates view glass_prepared)
--
-- The view glass_prepared(id, class, features real[]) holds every row of the
-- table, with the usual preparation a data scientist applies before an
-- array-based detector:
--   * text columns (categories): one-hot, one 0/1 element per distinct
--     non-NULL value (sorted), no level dropped; a NULL takes the column's
--     most frequent value (ties: the smallest);
--   * boolean columns: 0/1; a NULL takes the median (the majority value);
--   * numeric columns (integer, numeric, ...): the number as it is; a NULL
--     takes the column's median (percentile_cont(0.5)).
-- The columns id and class (the label) are left out of the features.  The
-- medians and modes are computed once, when the view is created, over all
-- rows of the table (label-free, so no label leaks; the same for every
-- split), and are baked into the view as constants.
-- It returns the number of features.

CREATE OR REPLACE FUNCTION detect_prepare(tbl regclass, skip text[] DEFAULT '{id,class}')
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	a		record;
	parts	text[] := '{}';
	med		double precision;
	fill	text;
	v		text;
	vname	text;
BEGIN
	FOR a IN
		SELECT attname, format_type(atttypid, atttypmod) AS typ, atttypid
		FROM pg_attribute
		WHERE attrelid = tbl AND attnum > 0 AND NOT attisdropped
		  AND NOT attname = ANY (skip)
		ORDER BY attnum
	LOOP
		IF a.atttypid IN ('text'::regtype, 'varchar'::regtype, 'bpchar'::regtype) THEN
			EXECUTE format('SELECT %1$I::text FROM %2$s WHERE %1$I IS NOT NULL
				GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1', a.attname, tbl) INTO fill;
			FOR v IN EXECUTE format('SELECT DISTINCT %1$I::text FROM %2$s
				WHERE %1$I IS NOT NULL ORDER BY 1', a.attname, tbl)
			LOOP
				parts := parts || format('(coalesce(%I::text, %L) = %L)::int::real',
										 a.attname, fill, v);
			END LOOP;
		ELSIF a.atttypid = 'boolean'::regtype THEN
			EXECUTE format('SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY %1$I::int)
				FROM %2$s', a.attname, tbl) INTO med;
			parts := parts || format('coalesce(%I::int, %s)::real', a.attname, coalesce(med, 0));
		ELSIF a.atttypid IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype,
							 'numeric'::regtype, 'real'::regtype, 'double precision'::regtype) THEN
			EXECUTE format('SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY %1$I::float8)
				FROM %2$s', a.attname, tbl) INTO med;
			parts := parts || format('coalesce(%I::real, %s::real)', a.attname, coalesce(med, 0));
		ELSE
			RAISE EXCEPTION 'detect_prepare: column % has unsupported type %', a.attname, a.typ;
		END IF;
	END LOOP;
	SELECT relname || '_prepared' INTO vname FROM pg_class WHERE oid = tbl;
	EXECUTE format('CREATE OR REPLACE VIEW %I AS SELECT id, class, ARRAY[%s]::real[] AS features FROM %s',
				   vname, array_to_string(parts, ', '), tbl);
	RETURN cardinality(parts);
END
$$;

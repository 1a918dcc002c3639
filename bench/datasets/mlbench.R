# bench/datasets/mlbench.R - export data sets of R's mlbench package (Debian
# r-cran-mlbench) as CSV files plus column-type files, for bench/detect.sh
# and bench/tables.sh.
#
#   Rscript bench/datasets/mlbench.R OUTDIR
#
# Writes, for each of glass, vehicle, vowel, sonar, letter and soybean (the
# detection benchmark) and ozone, bostonhousing2 and dna (bench/tables.sh):
#   OUTDIR/NAME.csv   header line, one row per record; first column id (the
#                     row number in the R data frame), last column class (the
#                     label); NA written as an empty unquoted field, which
#                     PostgreSQL's COPY (FORMAT csv) reads as NULL
#   OUTDIR/NAME.cols  one "column<TAB>SQL type" line per CSV column
# Column types follow the data, as a user loading it would choose them:
# numeric columns whose values are all whole numbers -> integer, other
# numeric columns -> numeric; ordered factors with numeric levels (soybean)
# -> smallint; unordered factors with exactly the levels 0 and 1 -> boolean;
# other factors -> text (category).  Column names: lower case, '.' -> '_'.
# Sets without a class get a label column by a documented rule (see below and
# docs/tables.md); columns that define it stay in the table, and the
# benchmark leaves them out of the relation it trains on.
suppressPackageStartupMessages(library(mlbench))

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 1) stop("usage: Rscript mlbench.R OUTDIR")
outdir <- args[1]
dir.create(outdir, showWarnings = FALSE, recursive = TRUE)

# convert_column(x): the column as the R type whose CSV text PostgreSQL reads
# into the SQL type returned alongside it (list(value, sqltype)).
convert_column <- function(x) {
	if (is.factor(x)) {
		lv <- levels(x)
		numeric_levels <- all(grepl("^-?[0-9]+$", lv))
		if (is.ordered(x) && numeric_levels)
			return(list(as.integer(as.character(x)), "smallint"))
		if (!is.ordered(x) && setequal(lv, c("0", "1")))
			return(list(as.character(x) == "1", "boolean"))
		return(list(as.character(x), "text"))
	}
	if (is.numeric(x)) {
		v <- x[!is.na(x)]
		if (all(v == round(v)) && all(abs(v) < 2^31))
			return(list(as.integer(x), "integer"))
		return(list(x, "numeric"))
	}
	stop("unexpected column class ", class(x)[1])
}

# export(name, df, label, rename): write NAME.csv and NAME.cols for data
# frame df whose label column is `label`; rename maps old to new names.
export <- function(name, df, label, rename = c()) {
	out <- data.frame(id = seq_len(nrow(df)))
	cols <- c("id\tinteger")
	for (col in setdiff(names(df), label)) {
		cv <- convert_column(df[[col]])
		nm <- if (col %in% names(rename)) rename[[col]] else tolower(gsub(".", "_", col, fixed = TRUE))
		if (nm %in% names(out)) stop(name, ": duplicate column name ", nm)
		out[[nm]] <- cv[[1]]
		cols <- c(cols, paste0(nm, "\t", cv[[2]]))
	}
	out[["class"]] <- as.character(df[[label]])
	cols <- c(cols, "class\ttext")
	write.csv(out, file.path(outdir, paste0(name, ".csv")), row.names = FALSE, na = "")
	writeLines(cols, file.path(outdir, paste0(name, ".cols")))
	cat(sprintf("  %-8s %6d rows, %3d columns\n", name, nrow(out), ncol(out) - 2))
}

data(Glass); export("glass", Glass, "Type")
# Vehicle's names differ only in case for the major and minor axis
data(Vehicle); export("vehicle", Vehicle, "Class",
	c(Sc.Var.Maxis = "sc_var_major", Sc.Var.maxis = "sc_var_minor",
	  Skew.Maxis = "skew_major", Skew.maxis = "skew_minor",
	  Kurt.Maxis = "kurt_major", Kurt.maxis = "kurt_minor"))
data(Vowel); export("vowel", Vowel, "Class", c(V1 = "speaker"))
data(Sonar); export("sonar", Sonar, "Class")
data(LetterRecognition); export("letter", LetterRecognition, "lettr")
data(Soybean); export("soybean", Soybean, "Class")

# Ozone: 366 days of Los Angeles air quality (1976).  The month (V1) is the
# label column `class` ("1".."12"; bench/tables.py calls May-September normal);
# day of month and day of week are unordered factors -> text, as loaded.
data(Ozone); export("ozone", Ozone, "V1",
	c(V2 = "day_of_month", V3 = "day_of_week", V4 = "ozone", V5 = "vh500",
	  V6 = "wind", V7 = "humidity", V8 = "temp_sandburg", V9 = "temp_elmonte",
	  V10 = "inv_base_height", V11 = "pressure_gradient", V12 = "inv_base_temp",
	  V13 = "visibility"))
# BostonHousing2: 506 census tracts, no class.  Label `class` = "high" when
# the corrected median value cmedv >= 35 (USD 35,000; the top 9%, 47 tracts),
# else "regular".  medv and cmedv stay in the table (bench/tables.py leaves
# them and the tract number out of the relation it trains on).
data(BostonHousing2)
BostonHousing2$price <- ifelse(BostonHousing2$cmedv >= 35, "high", "regular")
export("bostonhousing2", BostonHousing2, "price")
# DNA (StatLog splice junctions): 180 binary indicator factors (0/1 ->
# boolean), class ei / ie / n.
data(DNA); export("dna", DNA, "Class")

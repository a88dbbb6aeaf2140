-- The school years a school's overview can show: those its enrolment mart holds, latest first.
-- $1 school id.
SELECT DISTINCT year FROM gold.marts.enrolment WHERE school_id = $1 ORDER BY year DESC

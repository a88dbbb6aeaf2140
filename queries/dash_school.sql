-- A school's name, for its pages' headings. $1 school id.
SELECT name FROM silver.platform.schools WHERE id = $1

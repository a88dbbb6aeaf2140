-- The years gold holds figures of indicator $1 for, latest first (the indicator dashboard's year
-- picker).
SELECT DISTINCT year FROM gold.indicators.values WHERE indicator = $1 ORDER BY year DESC

-- The newest early-warning model that may be used: its version, the school year it learnt from
-- and its trees (JSON).
SELECT version, train_year, model FROM gold.predict.models WHERE usable ORDER BY version DESC LIMIT 1

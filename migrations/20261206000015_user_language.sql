-- The language a user chose (the switcher at the foot of every page, while signed in): messages
-- sent to them (SMS, email) are written in it. Null: not chosen (English).
ALTER TABLE platform.users ADD COLUMN lang text CHECK (lang IN ('en', 'sn', 'nd'));
GRANT UPDATE (lang) ON platform.users TO oneclass_app;
COMMENT ON COLUMN platform.users.lang IS 'The language the user chose for pages and messages: en, sn or nd (null: not chosen, English).';

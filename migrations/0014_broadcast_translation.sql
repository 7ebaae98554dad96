-- A broadcast's version in a second language (JSON: lang, title, body, sms_text, html), sent to the
-- subscribers of that language; everyone else gets the main text.
ALTER TABLE broadcasts ADD COLUMN translation TEXT;

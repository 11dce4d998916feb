-- The portal's accent colour (#rrggbb) and the merchant's logo (an https URL), beside the way
-- back to the store and the support email.
ALTER TABLE portal_branding ADD COLUMN accent TEXT;
ALTER TABLE portal_branding ADD COLUMN logo_url TEXT;

-- Placeholder demo; replaced by the real walkthrough.
CREATE EXTENSION vae;
SELECT 1;

-- Seed data for `supabase db reset` on a local Supabase stack. Reference data that the product
-- needs in every environment (the PILAR framework, the question bank) lives in migrations
-- instead, so hosted projects get it too. Nothing here yet.
select 1;

"""A local server that speaks the Supabase wire protocol (PostgREST, GoTrue, Storage
subsets) over a real PostgreSQL, for development, tests and small self-hosted teams.

It runs the migrations in ``supabase/migrations`` (the same files ``supabase db push``
deploys to a hosted project) and answers each request as the JWT's role with
``request.jwt.claims`` set, so row-level security and ``auth.uid()`` behave as on Supabase.
"""

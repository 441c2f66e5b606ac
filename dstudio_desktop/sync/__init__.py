"""Sign-in and offline-first sync with a Supabase-style backend. The only package of the
app that talks to the network; the core and the workspace know nothing of it."""

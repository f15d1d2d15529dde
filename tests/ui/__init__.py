"""The dashboard (anclax_fast.ui): pages, actions and security over HTTP, and in a real browser."""

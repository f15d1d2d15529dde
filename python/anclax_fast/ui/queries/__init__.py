"""The SQL behind each page of the dashboard, one module per page."""

"""Generated code for the sessiond.v1 API."""

"""The API's description, generated from the routes: /api/v1/openapi.json and the page /api/docs."""

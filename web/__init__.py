"""The web layer every area's views share: error responses, the interface language, request helpers."""

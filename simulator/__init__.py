"""A local stand-in for the SMS provider (HTTP) and the email provider (SMTP), with reports."""

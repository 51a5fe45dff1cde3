"""Peppol BIS Billing 3.0 core: identifiers, UBL building and parsing, official validation.

Plain Python (no Django): the portal passes in settings such as the rules directory.
"""

"""eConnect: the gateway the portal codes against (``gateway.EConnectGateway``), its platform SOAP v3.1
implementation (``soap.PlatformSoapGateway``), the public Peppol lookup (``lookup.PeppolLookup``), typed models and
errors, and a simulator (``simulator``). Plain Python; credentials are passed in, never read from settings."""

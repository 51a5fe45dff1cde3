from portal.core.checks import econnect_subscription_key_set


def test_a_deployment_without_the_econnect_subscription_key_is_warned(settings):
    settings.ECONNECT_SOAP_URL = "https://api.everbinding.nl/soap/v3.1"
    settings.ECONNECT_SUBSCRIPTION_KEY = ""

    [warning] = econnect_subscription_key_set(None)

    assert warning.id == "portal.W002" and "ECONNECT_SUBSCRIPTION_KEY" in warning.hint
    settings.ECONNECT_SUBSCRIPTION_KEY = "given-by-econnect"
    assert econnect_subscription_key_set(None) == []

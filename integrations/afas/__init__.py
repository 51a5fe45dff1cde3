"""AFAS: the Profit REST client, the Small Business client, and (in ``simulator``) a simulator of both.

Plain Python, no Django: tokens and addresses are passed in by the caller, per environment.
"""

from integrations.afas.errors import (
    AfasAccessDenied,
    AfasAuthenticationError,
    AfasFunctionalError,
    AfasMaintenance,
    AfasQueryTooLong,
    AfasRecordLocked,
)
from integrations.afas.models import (
    PROFIT_BASE_URL_TEMPLATE,
    SIMULATOR_BASE_URL_TEMPLATE,
    ConnectionProblem,
    ConnectionTestResult,
    ConnectorNames,
    EnvironmentType,
    Filter,
    Operator,
)
from integrations.afas.profit import ProfitClient
from integrations.afas.small_business import SmallBusinessClient

__all__ = [
    "PROFIT_BASE_URL_TEMPLATE",
    "SIMULATOR_BASE_URL_TEMPLATE",
    "AfasAccessDenied",
    "AfasAuthenticationError",
    "AfasFunctionalError",
    "AfasMaintenance",
    "AfasQueryTooLong",
    "AfasRecordLocked",
    "ConnectionProblem",
    "ConnectionTestResult",
    "ConnectorNames",
    "EnvironmentType",
    "Filter",
    "Operator",
    "ProfitClient",
    "SmallBusinessClient",
]

"""FOCUS billing samples as each cloud exports them (FOCUS 1.0 columns + the provider's own columns),
small enough to validate and import in well under a second each."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

# FOCUS 1.0 columns (FinOps Foundation FOCUS 1.0 specification; the same names in 1.1 and 1.2).
FOCUS_10 = ["AvailabilityZone", "BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency",
            "BillingPeriodEnd", "BillingPeriodStart", "ChargeCategory", "ChargeClass", "ChargeDescription",
            "ChargeFrequency", "ChargePeriodEnd", "ChargePeriodStart", "CommitmentDiscountCategory",
            "CommitmentDiscountId", "CommitmentDiscountName", "CommitmentDiscountStatus", "CommitmentDiscountType",
            "ConsumedQuantity", "ConsumedUnit", "ContractedCost", "ContractedUnitPrice", "EffectiveCost",
            "InvoiceIssuerName", "ListCost", "ListUnitPrice", "PricingCategory", "PricingQuantity", "PricingUnit",
            "ProviderName", "PublisherName", "RegionId", "RegionName", "ResourceId", "ResourceName", "ResourceType",
            "ServiceCategory", "ServiceName", "SkuId", "SkuPriceId", "SubAccountId", "SubAccountName", "Tags"]
MONTHS = [("2026-08-01T00:00:00Z", "2026-09-01T00:00:00Z"), ("2026-09-01T00:00:00Z", "2026-10-01T00:00:00Z"),
          ("2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z")]


def row(provider: str, service: str, cost: float, resource: str, description: str, region: str, sku: str = "SKU1",
        publisher: str | None = None, category: str = "Usage", currency: str = "USD", month: int = 0,
        tags: dict | None = None, sub: str = "sub-1", service_category: str = "AI and Machine Learning",
        resource_name: str | None = None) -> dict:
    start, end = MONTHS[month]
    return {
        "AvailabilityZone": None, "BilledCost": cost, "BillingAccountId": "acct-1", "BillingAccountName": "Example Bank",
        "BillingCurrency": currency, "BillingPeriodEnd": end, "BillingPeriodStart": start, "ChargeCategory": category,
        "ChargeClass": None, "ChargeDescription": description, "ChargeFrequency": "Usage-Based",
        "ChargePeriodEnd": end, "ChargePeriodStart": start, "CommitmentDiscountCategory": None,
        "CommitmentDiscountId": None, "CommitmentDiscountName": None, "CommitmentDiscountStatus": None,
        "CommitmentDiscountType": None, "ConsumedQuantity": 1000.0, "ConsumedUnit": "Tokens",
        "ContractedCost": cost, "ContractedUnitPrice": cost / 1000, "EffectiveCost": cost, "InvoiceIssuerName": provider,
        "ListCost": cost, "ListUnitPrice": cost / 1000, "PricingCategory": "Standard", "PricingQuantity": 1000.0,
        "PricingUnit": "1K Tokens", "ProviderName": provider, "PublisherName": publisher or provider,
        "RegionId": region, "RegionName": region, "ResourceId": resource, "ResourceName": resource_name or resource.split("/")[-1],
        "ResourceType": "AI endpoint", "ServiceCategory": service_category, "ServiceName": service, "SkuId": sku,
        "SkuPriceId": sku + "-p", "SubAccountId": sub, "SubAccountName": sub.upper(),
        "Tags": json.dumps(tags or {}),
    }


def aws() -> pd.DataFrame:
    """AWS Data Exports, 'FOCUS 1.0 with AWS columns' (x_ columns: x_ServiceCode, x_UsageType, x_Operation)."""
    arn = "arn:aws:bedrock:us-east-1:111122223333:provisioned-model/claims"
    rows = [row("AWS", "Amazon Bedrock", 1200.0, arn, "Claude 3.5 Sonnet input tokens in US East (N. Virginia)",
                "us-east-1", month=m, tags={"ai-deployment": "DEP-CLAIMS"}) for m in range(3)]
    rows.append(row("AWS", "Amazon Elastic Compute Cloud", 900.0, "i-0abc", "c7g.large Linux", "us-east-1",
                    service_category="Compute"))
    df = pd.DataFrame(rows)[FOCUS_10]
    df["x_ServiceCode"] = ["AmazonBedrock"] * 3 + ["AmazonEC2"]
    df["x_UsageType"] = ["USE1-Claude3.5Sonnet-input-tokens"] * 3 + ["BoxUsage:c7g.large"]
    df["x_Operation"] = ["InvokeModel"] * 3 + ["RunInstances"]
    return df


def azure() -> pd.DataFrame:
    """Azure Cost Management 'FocusCost' 1.0 export (x_SkuMeterName, x_ResourceGroupName)."""
    rid = "/subscriptions/s1/resourceGroups/rg-ai/providers/Microsoft.CognitiveServices/accounts/aoai-advisor"
    rows = [row("Microsoft", "Azure OpenAI Service", 2500.0, rid, "gpt-4o-0513 Inp regnl Tokens", "swedencentral",
                month=m, tags={"ai-deployment": "DEP-ADVISOR"}) for m in range(3)]
    rows.append(row("Microsoft", "Virtual Machines", 400.0, "/subscriptions/s1/vm1", "D2s v5", "westeurope",
                    service_category="Compute"))
    df = pd.DataFrame(rows)[FOCUS_10]
    df["x_SkuMeterName"] = ["gpt-4o-0513 Inp regnl Tokens"] * 3 + ["D2s v5"]
    df["x_ResourceGroupName"] = ["rg-ai"] * 3 + ["rg-vm"]
    return df


def google() -> pd.DataFrame:
    """Google Cloud FOCUS export to BigQuery (gcp_billing_export_focus_<ACCOUNT>), exported as Parquet."""
    res = "//aiplatform.googleapis.com/projects/p1/locations/europe-west4/endpoints/77"
    rows = [row("Google Cloud", "Vertex AI", 700.0, res, "Gemini 2.5 Pro Input Text Tokens", "europe-west4", month=m,
                sub="p1") for m in range(3)]
    rows.append(row("Google Cloud", "BigQuery", 50.0, "//bigquery/p1", "Analysis", "europe-west4", sub="p1",
                    service_category="Analytics"))
    return pd.DataFrame(rows)[FOCUS_10]


def oci() -> pd.DataFrame:
    """OCI FOCUS CSV cost report (FOCUS columns; Oracle as provider)."""
    rows = [row("Oracle", "Generative AI", 300.0, "ocid1.generativeaiendpoint.oc1.eu-frankfurt-1.aaa",
                "Cohere Command R+ - Large Cohere", "eu-frankfurt-1", month=m) for m in range(3)]
    rows.append(row("Oracle", "Compute", 80.0, "ocid1.instance.oc1..x", "E4 OCPU", "eu-frankfurt-1",
                    service_category="Compute"))
    return pd.DataFrame(rows)[FOCUS_10]


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    df.to_csv(path, index=False)
    return path


def write_parquet(df: pd.DataFrame, path: Path) -> Path:
    t = df.copy()
    for c in ("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"):
        t[c] = pd.to_datetime(t[c], utc=True)
    pq.write_table(pa.Table.from_pandas(t, preserve_index=False), path)
    return path

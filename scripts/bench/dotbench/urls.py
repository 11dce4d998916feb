from django.urls import include, path
from oauth2_provider.contrib.rest_framework import TokenHasScope
from rest_framework.response import Response
from rest_framework.views import APIView


class Subscriptions(APIView):
    """A bearer-protected DRF view answering a subscription list like subgate's mirror read
    (built in memory: no database read beyond the token check, which favours DOT)."""

    permission_classes = [TokenHasScope]
    required_scopes = ["read"]

    def get(self, request, subscriber_id):
        return Response({
            "subscriber_id": subscriber_id,
            "customer_id": "cus_NffrFeUfNV2Hib",
            "data": [{
                "id": "sub_1MowQVLkdIwHu7ixeRlqHVzs", "status": "active", "cancel_at_period_end": False,
                "current_period_end": 1767000000, "items": [{
                    "price_id": "price_1Mr6rdLkdIwHu7ixwPmiybbR", "product_name": "Pro",
                    "unit_amount": 2000, "currency": "usd", "interval": "month", "quantity": 1}],
            }],
        })


urlpatterns = [
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("api/customers/<str:subscriber_id>/subscriptions", Subscriptions.as_view()),
]

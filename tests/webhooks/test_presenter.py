"""webhooks.presenter: no response shows a sealed secret; a new one is shown in clear once."""
from photoservice.webhooks import presenter

ROW = {"id": 3, "url": "https://crm.example.com/hooks", "events": ["photo.uploaded"],
       "secret": "gAAAAA-sealed-current", "previous_secret": "gAAAAA-sealed-previous",
       "previous_secret_expires_at": None, "enabled": True}


def test_an_endpoint_is_shown_without_its_sealed_secrets():
    shown = presenter.endpoint(ROW)
    assert "secret" not in shown and "previous_secret" not in shown
    assert shown == {k: v for k, v in ROW.items() if k not in ("secret", "previous_secret")}
    assert presenter.endpoints([ROW, dict(ROW, id=4)]) == [shown, dict(shown, id=4)]


def test_a_new_secret_is_shown_in_clear_not_the_sealed_one():
    shown = presenter.with_secret(ROW, "whsec_clear")
    assert shown["secret"] == "whsec_clear" and "previous_secret" not in shown
    assert ROW["secret"] == "gAAAAA-sealed-current"  # the row is not changed

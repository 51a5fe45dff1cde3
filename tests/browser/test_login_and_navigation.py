"""Logging in, the language switcher and keyboard use, as a person does them in Chromium."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from portal.organisations.demo import ACCOUNTANT_LOGIN


def test_an_accountant_logs_in_with_the_form_and_sees_the_dashboard(world, page, shots):
    username, password = ACCOUNTANT_LOGIN
    page.goto(world.url("web:home"))

    expect(page).to_have_url(re.compile(r"/accounts/login/"))  # not logged in: the login form first
    expect(page.get_by_role("heading", name="Log in", level=1)).to_be_visible()
    shots.take("login form", both=True)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(re.compile(re.escape(world.url("web:home")) + "$"))
    navigation = page.get_by_role("navigation", name="Main")
    expect(navigation.get_by_role("link", name="Dashboard")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("banner")).to_contain_text(username)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("Bakkerij")  # a demo client of the firm
    shots.take("dashboard", both=True)


def test_a_wrong_password_keeps_the_login_form_with_an_error(world, page, shots):
    page.goto(world.url("login"))
    page.get_by_label("Username").fill(ACCOUNTANT_LOGIN[0])
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("alert")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    shots.take("wrong password")


def test_the_language_switcher_shows_the_portal_in_dutch(world, context, page, shots):
    world.log_in(context, world.demo_user())
    page.goto(world.url("web:home"))

    page.get_by_label("Language").select_option(label="Nederlands")
    page.get_by_role("button", name="Switch").click()

    expect(page.locator("html")).to_have_attribute("lang", "nl")
    navigation = page.get_by_role("banner")
    expect(navigation.get_by_role("link", name="Overzicht")).to_be_visible()
    expect(navigation.get_by_role("link", name="Verzonden")).to_be_visible()
    expect(navigation.get_by_role("link", name="Ontvangen")).to_be_visible()
    shots.take("dutch dashboard", both=True)


def test_tabbing_to_the_first_navigation_link_shows_a_visible_focus(world, context, page, shots):
    world.log_in(context, world.demo_user())
    page.goto(world.url("web:home"))
    first_link = page.get_by_role("navigation", name="Main").get_by_role("link").first

    for _ in range(6):  # skip link, brand, then the navigation
        page.keyboard.press("Tab")
        if first_link.evaluate("element => element === document.activeElement"):
            break

    expect(first_link).to_be_focused()
    outline = first_link.evaluate(
        "element => { const s = getComputedStyle(element);"
        " return {style: s.outlineStyle, width: parseFloat(s.outlineWidth), color: s.outlineColor}; }"
    )
    assert outline["style"] not in ("none", "") and outline["width"] >= 2, outline
    shots.take("focus on the first navigation link")

"""Giving an operator a login and taking it away (services.operator_login_*)."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from distribution import services
from distribution.models import Operator
from distribution.permissions import is_operator

User = get_user_model()


def test_a_login_is_a_user_linked_to_the_operator_who_is_not_staff(make_operator):
    ann = make_operator("Ann")

    user = services.operator_login_create(
        operator_id=ann.pk, username="ann", password="a-long-pass-phrase"
    )

    assert Operator.objects.get(pk=ann.pk).user_id == user.pk
    assert user.check_password("a-long-pass-phrase")
    assert not user.is_staff and not user.is_superuser and user.is_active
    assert is_operator(User.objects.get(pk=user.pk))


@pytest.mark.parametrize("password", ["short", "password123", "12345678901", "ann-ann-ann"])
def test_a_weak_password_is_refused_by_djangos_validators(make_operator, password):
    ann = make_operator("Ann")

    with pytest.raises(ValidationError) as exc:
        services.operator_login_create(
            operator_id=ann.pk, username="ann-ann-ann", password=password
        )

    assert "password" in exc.value.message_dict
    assert not User.objects.exists()
    assert Operator.objects.get(pk=ann.pk).user_id is None


def test_an_operator_has_at_most_one_login(make_operator):
    ann = make_operator("Ann")
    services.operator_login_create(
        operator_id=ann.pk, username="ann", password="a-long-pass-phrase"
    )

    with pytest.raises(ValidationError) as exc:
        services.operator_login_create(
            operator_id=ann.pk, username="ann2", password="a-long-pass-phrase"
        )

    assert "already has a login" in str(exc.value)
    assert list(User.objects.values_list("username", flat=True)) == ["ann"]


@pytest.mark.parametrize("taken", ["ann", "ANN", " ann "])
def test_a_user_name_is_unique_whatever_its_case(make_operator, taken):
    ann, bob = make_operator("Ann"), make_operator("Bob")
    services.operator_login_create(
        operator_id=ann.pk, username="ann", password="a-long-pass-phrase"
    )

    with pytest.raises(ValidationError) as exc:
        services.operator_login_create(
            operator_id=bob.pk, username=taken, password="another-long-phrase"
        )

    assert "username" in exc.value.message_dict
    assert Operator.objects.get(pk=bob.pk).user_id is None


@pytest.mark.parametrize("username", ["", "   ", "has space", "a" * 151, "nul\x00"])
def test_a_bad_user_name_is_refused(make_operator, username):
    ann = make_operator("Ann")

    with pytest.raises(ValidationError) as exc:
        services.operator_login_create(
            operator_id=ann.pk, username=username, password="a-long-pass-phrase"
        )

    assert "username" in exc.value.message_dict
    assert not User.objects.exists()


def test_a_login_for_an_unknown_operator_is_refused(db):
    with pytest.raises(Operator.DoesNotExist):
        services.operator_login_create(
            operator_id=999, username="ghost", password="a-long-pass-phrase"
        )
    assert not User.objects.exists()


def test_removing_a_login_deletes_its_user_and_keeps_the_operator(
    make_operator, make_source, register
):
    ann = make_operator("Ann")
    contact = register(make_source(weights={ann: 1}))
    services.operator_login_create(
        operator_id=ann.pk, username="ann", password="a-long-pass-phrase"
    )

    operator = services.operator_login_remove(operator_id=ann.pk)

    assert operator.user_id is None
    assert not User.objects.filter(username="ann").exists()
    assert Operator.objects.get(pk=ann.pk).contacts.get() == contact
    # The name is free again: the operator may be given a new login.
    services.operator_login_create(operator_id=ann.pk, username="ann", password="a-new-pass-phrase")


def test_removing_a_login_that_does_not_exist_changes_nothing(make_operator):
    ann = make_operator("Ann")
    supervisor = User.objects.create_user("boss", is_staff=True)

    assert services.operator_login_remove(operator_id=ann.pk).user_id is None
    assert list(User.objects.all()) == [supervisor]


def test_removing_the_login_of_a_staff_user_only_unlinks_it(make_operator):
    ann = make_operator("Ann")
    boss = User.objects.create_user("boss", is_staff=True)
    Operator.objects.filter(pk=ann.pk).update(user=boss)

    services.operator_login_remove(operator_id=ann.pk)

    assert Operator.objects.get(pk=ann.pk).user_id is None
    assert User.objects.filter(pk=boss.pk, is_staff=True).exists()

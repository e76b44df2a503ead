from tests.test_feedback import *  # noqa
def test_show(capsys):
    user, lx = citizen(), Agency.objects.get(key="ubnd_30307")
    clerk = officer()
    general(user, lx)
    client = Client(); client.login(username=clerk.user.username, password=PASSWORD)
    with CaptureQueriesContext(connection) as ctx:
        client.get(reverse("backoffice:pakn"))
    with capsys.disabled():
        for q in ctx.captured_queries: print(q["sql"][:200])

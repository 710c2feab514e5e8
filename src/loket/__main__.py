from loket.cli import app

app()

from marketplace import create_app
app = create_app()

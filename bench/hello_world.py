"""The baseline of the HTTP budgets: the smallest Flask view, served like the real app."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello, World!"


@app.post("/")
def hello_post():
    return {"ok": True}, 201

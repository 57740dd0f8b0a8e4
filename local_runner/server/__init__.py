"""The local cloud as a server: the AWS wire protocols on 127.0.0.1 (`make up` / `make down`), answered by the
engine `make run` uses. See docs/local_cloud.md."""

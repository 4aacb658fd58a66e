// Runs once, when MongoDB's data volume is empty (the image's docker-entrypoint-initdb.d): the auth
// service's own user, allowed to read and write its database and nothing else.
db.getSiblingDB("admin").createUser({
  user: process.env.MONGO_AUTH_USERNAME,
  pwd: process.env.MONGO_AUTH_PASSWORD,
  roles: [{ role: "readWrite", db: "auth" }],
});

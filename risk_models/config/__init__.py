"""The library of YAML facts and its schemas: loader (errors name file and key), domain enums, question
semantics (one answer parser), organisation profile, loss assumptions, labels for people."""

"""What each page is (invoice, prescription, care sheet, other) and how a file's pages group into documents."""

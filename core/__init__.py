"""The ground floor: records, settings, reason codes and their French messages, errors, the inbox's shape, the one atomic write. Imports nothing of ours."""

"""Outside data brought in: open procurement notices (OCDS) turned into stored Contracts,
and tied to the catalogue with provenance.

json_stream         JSON values read one at a time from a stream of any length
ocds                one OCDS release to a Contract: the IT filter, where each field comes from
ocds_files          files on disk (packages, records, JSON lines, gzip) to releases
importing           releases into the store in batches, counted for the summary
procurement_apis    Contracts Finder and Find a Tender, page by page, resumable
names               names normalised for matching: case, punctuation, legal suffixes
buyers              buyer -> council, against the council register
suppliers           supplier -> vendor, by Companies House number, then names; resellers apart
matching            a contract's council, vendor and system matches, each with its method
periods             contract periods and annual values, trusted only when not flagged
instances           matched contracts as catalogue instance entries (contracts --format yaml)
"""

"""Outside data brought in: open procurement notices (OCDS) turned into stored Contracts.

json_stream         JSON values read one at a time from a stream of any length
ocds                one OCDS release to a Contract: the IT filter, where each field comes from
ocds_files          files on disk (packages, records, JSON lines, gzip) to releases
importing           releases into the store in batches, counted for the summary
procurement_apis    Contracts Finder and Find a Tender, page by page, resumable
"""

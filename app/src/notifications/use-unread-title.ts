import { useEffect } from 'react'
import { useDocumentHidden } from './use-document-hidden.ts'

const BASE_TITLE = 'Parley'

/** Puts the unread total in the document title, as "(3) Parley", while the tab is hidden. */
export function useUnreadTitle(total: number): void {
  const hidden = useDocumentHidden()

  useEffect(() => {
    document.title = hidden && total > 0 ? `(${total}) ${BASE_TITLE}` : BASE_TITLE
  }, [hidden, total])

  useEffect(
    () => () => {
      document.title = BASE_TITLE
    },
    [],
  )
}
